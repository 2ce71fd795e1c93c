"""The lifecycle applied to a real SQLite ledger fed by the real ingest and rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.alerts.errors import AlertNotFound, Refusal, TransitionRefused
from collector.alerts.lifecycle import Action, Actor, ClosureCode, Role, Status, replay
from collector.alerts.recording import LifecycleLedger
from collector.alerts.service import AlertService
from collector.ledger_service import LedgerService
from collector.rules import RuleSettings
from tests.collector.helpers import BOX, COUNTY, T0, message, receipt, sale, sale_return

NOW = T0 + dt.timedelta(hours=2)
LI = Actor("li", Role.AUDITOR)
RULE = "sold_at_two_stores"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[LifecycleLedger]:
    opened = LifecycleLedger(tmp_path / "ledger.db")
    yield opened
    opened.close()


def notifications(ledger: LifecycleLedger) -> list[tuple[str, int]]:
    return ledger.conn.execute("SELECT kind, alert FROM notifications ORDER BY id").fetchall()


def actions(service: AlertService, alert_id: int) -> list[str]:
    return [record.action.value for record in service.trail(alert_id)]


def the_alert(ledger: LifecycleLedger) -> int:
    rows = ledger.conn.execute("SELECT id FROM alerts WHERE rule = ?", (RULE,)).fetchall()
    assert len(rows) == 1, rows
    return int(rows[0][0])


def test_dismissed_alert_stays_dismissed_without_new_evidence_and_reopens_with_it(ledger: LifecycleLedger) -> None:
    ingest, alerts = LedgerService(ledger, COUNTY, RuleSettings()), AlertService(ledger)
    first = [message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]), message("S2", [sale("S2", 1, 20)])]
    ingest.ingest(first, NOW)
    alert = the_alert(ledger)
    assert notifications(ledger) == [("new", alert)] and actions(alerts, alert) == ["raise"]

    alerts.acknowledge(alert, LI, NOW, "looking")
    alerts.close(alert, LI, NOW, ClosureCode.DISMISSED_DUPLICATE_UPLOAD, "same box, POS resent the sale")
    assert alerts.status(alert) is Status.DISMISSED
    assert ledger.alerts(None)[0].state.value == "closed"

    ingest.ingest(first, NOW + dt.timedelta(minutes=5))  # redelivery
    ingest.evaluate_codes([BOX.key], NOW + dt.timedelta(minutes=6))  # re-evaluation, nothing new
    assert the_alert(ledger) == alert and alerts.status(alert) is Status.DISMISSED
    assert notifications(ledger) == [("new", alert)]

    third = sale("S3", 1, 30)
    ingest.ingest([message("S3", [third])], NOW + dt.timedelta(minutes=10))
    assert the_alert(ledger) == alert and alerts.status(alert) is Status.NEW
    record = ledger.alert(alert)
    assert record is not None and record.state.value == "open" and record.stores == ("S1", "S2", "S3")
    assert third.id in record.evidence
    assert actions(alerts, alert) == ["raise", "acknowledge", "close", "reopen"]
    reopened = alerts.trail(alert)[-1]
    assert (reopened.actor, reopened.role, reopened.note) == ("system", Role.SYSTEM, f"new evidence: {third.id}")
    assert notifications(ledger) == [("new", alert), ("reopened", alert)]  # not also "escalated"


def test_confirmed_alert_is_followed_up_by_a_new_alert_on_new_evidence(ledger: LifecycleLedger) -> None:
    ingest, alerts = LedgerService(ledger, COUNTY, RuleSettings()), AlertService(ledger)
    ingest.ingest([message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]), message("S2", [sale("S2", 1, 20)])], NOW)
    first = the_alert(ledger)
    alerts.acknowledge(first, LI, NOW)
    alerts.close(first, LI, NOW, ClosureCode.CONFIRMED_FRAUD, "box resold after sale; referred")
    ingest.evaluate_codes([BOX.key], NOW)
    assert ledger.conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 1

    ingest.ingest([message("S3", [sale("S3", 1, 30)])], NOW)
    rows = ledger.conn.execute("SELECT id, status, follows FROM alerts WHERE rule = ? ORDER BY id", (RULE,)).fetchall()
    assert rows == [(first, "confirmed", None), (rows[1][0], "new", first)]
    assert notifications(ledger)[-1] == ("new", rows[1][0])
    with pytest.raises(TransitionRefused) as refused:  # the follow-up is open: no second open alert
        alerts.reopen(first, LI, NOW, "verdict in doubt")
    assert refused.value.reason is Refusal.CONFLICT
    assert str(refused.value) == (f"Cannot reopen alert {first}: alert {rows[1][0]} of the same rule and subject "
                                  "is open; work on that one.")
    assert alerts.status(first) is Status.CONFIRMED and actions(alerts, first)[-1] == "close"


def test_refusals_change_nothing(ledger: LifecycleLedger) -> None:
    ingest, alerts = LedgerService(ledger, COUNTY, RuleSettings()), AlertService(ledger)
    ingest.ingest([message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]), message("S2", [sale("S2", 1, 20)])], NOW)
    alert = the_alert(ledger)
    before = (ledger.alert(alert), alerts.trail(alert))
    for call, reason in [
        (lambda: alerts.acknowledge(alert, Actor("wang", Role.VIEWER), NOW), Refusal.NOT_PERMITTED),
        (lambda: alerts.close(alert, LI, NOW, ClosureCode.CONFIRMED_FRAUD, "x"), Refusal.NOT_ACKNOWLEDGED),
        (lambda: alerts.reopen(alert, LI, NOW, "x"), Refusal.NOT_CLOSED),
    ]:
        with pytest.raises(TransitionRefused) as refused:
            call()
        assert refused.value.reason is reason
    alerts.acknowledge(alert, LI, NOW)
    with pytest.raises(TransitionRefused) as refused:
        alerts.close(alert, LI, NOW, None, "checked")
    assert refused.value.reason is Refusal.NO_CLOSURE_CODE and alerts.status(alert) is Status.ACKNOWLEDGED
    alerts.close(alert, LI, NOW, ClosureCode.DISMISSED_OTHER, "test purchase by the bureau")
    with pytest.raises(TransitionRefused) as refused:
        alerts.close(alert, LI, NOW, ClosureCode.CONFIRMED_FRAUD, "changed my mind")
    assert refused.value.reason is Refusal.CLOSED
    assert before[0] is not None and actions(alerts, alert) == ["raise", "acknowledge", "close"]
    with pytest.raises(AlertNotFound, match="Expected an existing alert id, got 999."):
        alerts.acknowledge(999, LI, NOW)


def test_escalation_and_withdrawal_are_in_the_trail_and_every_trail_replays(ledger: LifecycleLedger) -> None:
    ingest, alerts = LedgerService(ledger, COUNTY, RuleSettings()), AlertService(ledger)
    ingest.ingest([message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]), message("S2", [sale("S2", 1, 20)])], NOW)
    alert = the_alert(ledger)
    alerts.acknowledge(alert, LI, NOW)
    ingest.ingest([message("S3", [sale("S3", 1, 30)])], NOW)  # a third store: escalation
    assert actions(alerts, alert) == ["raise", "acknowledge", "escalate"]
    assert alerts.trail(alert)[-1].note == 'severity critical → critical; stores ["S1", "S2"] → ["S1", "S2", "S3"]'
    assert [kind for kind, _ in notifications(ledger)] == ["new", "escalated"]
    # a sold-twice alert that a late return withdraws
    ingest.ingest([message("S5", [receipt("S5", 1, 0, code=_code(2)), sale("S5", 2, 10, code=_code(2)),
                                  sale("S5", 4, 30, code=_code(2))])], NOW)
    twice = ledger.conn.execute("SELECT id FROM alerts WHERE rule = 'sold_twice_same_store'").fetchone()[0]
    ingest.ingest([message("S5", [sale_return("S5", 3, 20, "D2", code=_code(2))])], NOW)
    assert alerts.status(twice) is Status.WITHDRAWN and actions(alerts, twice) == ["raise", "withdraw"]
    with pytest.raises(TransitionRefused) as refused:
        alerts.acknowledge(twice, LI, NOW)
    assert refused.value.reason is Refusal.WITHDRAWN
    for (alert_id,) in ledger.conn.execute("SELECT id FROM alerts").fetchall():
        assert replay(alerts.trail(alert_id)) is alerts.status(alert_id)
    assert {r.action for r in alerts.trail(alert)} <= set(Action)


def _code(n: int):  # type: ignore[no-untyped-def]
    from drugtrace.events import Code, CodeKind

    return Code(key=f"8123456789012345678{n}", kind=CodeKind.NMPA, product_key="8123456")
