"""Ingest into a real SQLite ledger with the real rules: alerts, idempotence, late delivery."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from pathlib import Path

import pytest

from collector.ledger_service import LedgerService
from collector.rules import RuleSettings
from collector.store.base import AlertState
from collector.store.sqlite import SQLiteLedger
from tests.collector.helpers import BOX, COUNTY, T0, box, message, receipt, sale, sale_return

NOW = T0 + dt.timedelta(hours=2)


@pytest.fixture
def ledger(tmp_path: Path) -> SQLiteLedger:
    store = SQLiteLedger(tmp_path / "ledger.db")
    yield store
    store.close()


def service(ledger: SQLiteLedger) -> LedgerService:
    return LedgerService(ledger, COUNTY, RuleSettings())


def open_alerts(ledger: SQLiteLedger) -> set[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    return {(a.rule, a.subject, a.stores, a.evidence) for a in ledger.alerts(AlertState.OPEN)}


def test_sale_at_two_stores_raises_one_alert_with_both_sales_as_evidence(ledger: SQLiteLedger) -> None:
    got, sold_a, sold_b = receipt("S1", 1, 0), sale("S1", 2, 10), sale("S2", 1, 20)
    outcome = service(ledger).ingest([message("S1", [got, sold_a]), message("S2", [sold_b])], NOW)
    assert len(outcome.new) == 3 and outcome.alerts.opened >= 1
    alerts = ledger.alerts(AlertState.OPEN, rule="sold_at_two_stores")
    assert len(alerts) == 1
    assert alerts[0].subject == BOX.key and alerts[0].stores == ("S1", "S2")
    assert {sold_a.id, sold_b.id} <= set(alerts[0].evidence)


def test_redelivered_message_stores_once_and_changes_no_alert(ledger: SQLiteLedger) -> None:
    svc = service(ledger)
    first = message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)])
    svc.ingest([first], NOW)
    before = (ledger.counts(), open_alerts(ledger))
    again = svc.ingest([first, first], NOW + dt.timedelta(minutes=5))
    assert again.new == [] and again.duplicates == 4
    assert again.alerts.opened == again.alerts.extended == again.alerts.withdrawn == 0
    assert (ledger.counts(), open_alerts(ledger)) == before
    assert ledger.alerts(AlertState.OPEN) == []


def test_return_then_resale_is_legitimate_and_a_late_return_withdraws_the_alert(ledger: SQLiteLedger) -> None:
    svc = service(ledger)
    got, first, back, second = (receipt("S1", 1, 0), sale("S1", 2, 10), sale_return("S1", 3, 20, "D2"),
                                sale("S1", 4, 30))
    svc.ingest([message("S1", [got, first, second])], NOW)
    assert [a.rule for a in ledger.alerts(AlertState.OPEN)] == ["sold_twice_same_store"]
    svc.ingest([message("S1", [back])], NOW)  # the return arrives late: the resale was legitimate
    assert ledger.alerts(AlertState.OPEN) == []
    assert [a.state for a in ledger.alerts(None)] == [AlertState.WITHDRAWN]


def test_one_open_alert_per_rule_and_subject_is_a_database_constraint(ledger: SQLiteLedger) -> None:
    service(ledger).ingest([message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]),
                            message("S2", [sale("S2", 1, 20)])], NOW)
    with pytest.raises(sqlite3.IntegrityError):
        ledger.conn.execute(
            "INSERT INTO alerts (rule, scope, subject, state, severity, stores, code, detail, first_seen, last_seen) "
            "VALUES ('sold_at_two_stores', 'code', ?, 'open', 'high', '[]', NULL, '', '', '')", (BOX.key,))


def test_any_delivery_order_of_the_messages_gives_the_same_alerts(tmp_path: Path) -> None:
    events = [receipt("S1", 1, 0), sale("S1", 2, 10), sale_return("S1", 3, 20, "D2"), sale("S1", 4, 30),
              sale("S2", 1, 40), receipt("S2", 2, 50)]
    results = set()
    for index, order in enumerate(itertools.islice(itertools.permutations(events), 0, 720, 97)):
        ledger = SQLiteLedger(tmp_path / f"l{index}.db")
        svc = service(ledger)
        for event in order:
            svc.ingest([message(event.store, [event])], NOW)
        results.add(frozenset((r, s, st) for r, s, st, _ in open_alerts(ledger)))
        ledger.close()
    assert len(results) == 1 and next(iter(results))


def test_periodic_rules_run_in_bounded_shares_and_reach_the_same_alerts(tmp_path: Path) -> None:
    from tests.collector.rules.builders import line, settlement, t

    events = [settlement(f"st{store}{day}", store, t(days=day, hours=2), f"D{day}", lines=[line(4, 1)],
                         person=f"p_{store}{day}")
              for store in ("S1", "S2") for day in (0, 1)]  # four store-days, each collecting 1 of 4 boxes
    results = []
    for share in (1, 100):
        ledger = SQLiteLedger(tmp_path / f"share{share}.db")
        svc = service(ledger)
        svc.PERIODIC_STORE_DAYS = share
        svc.ingest([message(e.store, [e]) for e in events], NOW)
        calls = 1
        svc.periodic(NOW)
        while svc.periodic_backlog:
            calls += 1
            svc.periodic(NOW)
        results.append((calls, {(a.rule, a.subject) for a in ledger.alerts(AlertState.OPEN)}))
        ledger.close()
    (bounded_calls, bounded), (whole_calls, whole) = results
    assert (bounded_calls, whole_calls) == (4, 1)
    assert bounded == whole and {rule for rule, _ in whole} == {"collection_gap"} and len(whole) == 4


def test_histories_without_bodies_are_the_same_rows_with_empty_bodies(ledger: SQLiteLedger) -> None:
    """The evaluator reads every history without bodies first (and the codes in key order)."""
    other = box(1)
    events = [receipt("S1", 1, 0, other), receipt("S1", 2, 1), sale("S1", 3, 10, other), sale("S2", 1, 20),
              sale_return("S1", 4, 30, "D3", other)]
    service(ledger).ingest([message("S1", [e for e in events if e.store == "S1"]),
                            message("S2", [e for e in events if e.store == "S2"])], NOW)
    codes = [BOX.key, other.key, "81234567890123459999"]  # not in key order; the last never seen
    full = ledger.histories(codes)
    bare = ledger.histories(codes, bodies=False)
    assert [len(full[code]) for code in codes] == [2, 3, 0]
    assert all(row.body for rows in full.values() for row in rows)
    assert bare == {code: [row._replace(body=b"") for row in rows] for code, rows in full.items()}
    assert [row.seq for row in full[other.key]] == [1, 3, 4]  # storage order within a code
