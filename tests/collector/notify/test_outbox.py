"""The outbox on a real ledger: routing by severity and county, once; daily digest once per day; the
documented [notify] sample loads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.alerts.lifecycle import Actor, ClosureCode, Role
from collector.alerts.recording import LifecycleLedger
from collector.alerts.service import AlertService
from collector.config import load
from collector.ledger_service import LedgerService
from collector.notify import outbox
from collector.notify.config import Endpoint, EndpointKind
from collector.notify.errors import NotifyError
from collector.notify.worker import Notifier
from collector.rules import RuleSettings, Severity
from tests.collector.helpers import COUNTY, T0, TZ, message, receipt, sale

ROOT = Path(__file__).resolve().parents[3]
NOW = T0 + dt.timedelta(hours=2)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[LifecycleLedger]:
    opened = LifecycleLedger(tmp_path / "ledger.db")
    yield opened
    opened.close()


def hook(name: str, **options: object) -> Endpoint:
    url = f"http://127.0.0.1:9/{name}"
    return Endpoint(name=name, kind=EndpointKind.WEBHOOK, url=url, **options)  # type: ignore[arg-type]


def two_store_sale(ledger: LifecycleLedger) -> int:
    LedgerService(ledger, COUNTY, RuleSettings()).ingest(
        [message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]), message("S2", [sale("S2", 1, 20)])], NOW)
    return int(ledger.conn.execute("SELECT id FROM alerts WHERE rule = 'sold_at_two_stores'").fetchone()[0])


def deliveries(ledger: LifecycleLedger) -> set[tuple[str, str]]:
    return set(ledger.conn.execute("SELECT d.endpoint, n.kind FROM notification_deliveries d "
                                   "JOIN notifications n ON n.id = d.notification").fetchall())


def test_routing_follows_severity_and_county_and_happens_once(ledger: LifecycleLedger) -> None:
    alert = two_store_sale(ledger)  # sold_at_two_stores: critical
    endpoints = [hook("all", min_severity=Severity.LOW), hook("critical", min_severity=Severity.CRITICAL),
                 hook("other-county", min_severity=Severity.LOW, counties=("C9",)),
                 hook("this-county", counties=(COUNTY,))]
    made = outbox.route(ledger.conn, endpoints, COUNTY, NOW)
    assert made == {"all": 1, "critical": 1, "this-county": 1}
    assert outbox.route(ledger.conn, endpoints, COUNTY, NOW) == {}  # routed once
    pending = outbox.pending(ledger.conn, "critical")
    assert len(pending) == 1 and pending[0].payload["alert"]["id"] == alert
    assert pending[0].payload["alert"]["evidence_count"] == 2 and pending[0].payload["alert"]["stores"] == ["S1", "S2"]
    assert pending[0].payload["idempotency_key"] == outbox.key_of(outbox.instance(ledger.conn),
                                                                   pending[0].notification)
    outbox.delivered(ledger.conn, "critical", pending[0].notification, NOW)
    assert outbox.pending(ledger.conn, "critical") == []
    assert outbox.backlog(ledger.conn) == {"all": 1, "this-county": 1, "": 0}


def test_medium_alerts_skip_high_only_endpoints(ledger: LifecycleLedger) -> None:
    assert not outbox.wants(hook("h", min_severity=Severity.HIGH), COUNTY, "new", "medium")
    assert outbox.wants(hook("h", min_severity=Severity.HIGH), COUNTY, "escalated", "critical")
    assert not outbox.wants(hook("d", digest=False), COUNTY, "digest", None)
    assert outbox.wants(hook("d"), COUNTY, "digest", None)


def test_reopen_by_an_auditor_is_notified(ledger: LifecycleLedger) -> None:
    alert = two_store_sale(ledger)
    service, li = AlertService(ledger), Actor("li", Role.AUDITOR)
    service.acknowledge(alert, li, NOW)
    service.close(alert, li, NOW, ClosureCode.CONFIRMED_FRAUD, "resold")
    service.reopen(alert, li, NOW, "wrong store in the referral")
    kinds = [k for (k,) in ledger.conn.execute("SELECT kind FROM notifications ORDER BY id")]
    assert kinds == ["new", "reopened"]


def test_daily_digest_is_queued_once_per_day_and_counts_open_alerts(ledger: LifecycleLedger) -> None:
    two_store_sale(ledger)
    day = NOW.astimezone(TZ).date()
    assert outbox.queue_digest(ledger.conn, day, NOW)
    assert not outbox.queue_digest(ledger.conn, day, NOW + dt.timedelta(hours=1))  # a restart, a second process
    outbox.route(ledger.conn, [hook("d", min_severity=Severity.CRITICAL)], COUNTY, NOW)
    digest = [p.payload for p in outbox.pending(ledger.conn, "d") if p.payload["kind"] == "digest"]
    assert len(digest) == 1
    assert digest[0]["open"] == [{"rule": "sold_at_two_stores", "title": "回流药嫌疑 / sold at two stores",
                                  "severity": "critical", "count": 1}]
    assert (digest[0]["open_total"], digest[0]["new_last_24h"], digest[0]["day"]) == (1, 1, day.isoformat())


def test_duplicate_endpoint_names_are_refused(tmp_path: Path) -> None:
    from collector.notify.config import Notify

    with pytest.raises(NotifyError, match="Expected unique \\[\\[notify.endpoints\\]\\] names, got a more than once."):
        Notifier(tmp_path / "l.db", COUNTY, Notify(endpoints=(hook("a"), hook("a"))), TZ)


def test_the_documented_sample_loads(tmp_path: Path) -> None:
    text = (ROOT / "docs/notifications.md").read_text()
    sample = text.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "collector.toml"
    path.write_text('county = "420104"\n' + sample)
    notify = load(path, environ={}).notify
    assert [(e.name, e.kind, e.min_severity) for e in notify.endpoints] == [
        ("audit-team-wecom", EndpointKind.WECOM, Severity.HIGH),
        ("bureau-dingtalk", EndpointKind.DINGTALK, Severity.CRITICAL),
        ("case-system", EndpointKind.WEBHOOK, Severity.MEDIUM)]
    assert notify.digest_at == dt.time(8, 0) and notify.endpoints[1].secret == "SECREPLACE-ME"
