"""A store's sequence numbers in a real SQLite ledger: holes found, asked for once due, closed by a resend."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from collector.ledger_service import LedgerService
from collector.rules import RuleSettings
from collector.sequences import Received, ResendPolicy, StoreSequence, merge
from collector.store.base import NewEvent
from collector.store.schema import migrations
from collector.store.sqlite import SQLiteLedger
from collector.web.metrics import render
from tests.collector.helpers import COUNTY, T0, box, message, receipt, sale

NOW = T0 + dt.timedelta(hours=2)
POLICY = ResendPolicy(after=dt.timedelta(seconds=60), retry=dt.timedelta(seconds=300), max_requests=3)


def test_a_hole_is_asked_for_once_due_and_closes_when_the_events_come_again(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    service = LedgerService(ledger, COUNTY, RuleSettings())
    events = [receipt("S1", n, n, code=box(n)) for n in range(1, 7)]
    service.ingest([message("S1", events[:2]), message("S1", events[4:])], NOW)  # 3 and 4 lost on the way
    service.ingest([message("S2", [receipt("S2", 1, 0, code=box(99))])], NOW)
    assert ledger.sequences()["S1"] == StoreSequence(Received(2, ((5, 6),)), holes_since=NOW)
    assert ledger.sequences()["S2"] == StoreSequence(Received(1))

    text = render(ledger.counts(), None)  # /metrics
    assert "drugtrace_missing_events 2\n" in text and 'drugtrace_missing_events_by_store{store="S1"} 2\n' in text

    assert service.resend_requests(NOW + dt.timedelta(seconds=59), POLICY) == []
    asked_at = NOW + dt.timedelta(seconds=60)
    assert service.resend_requests(asked_at, POLICY) == [("S1", (3, 4))]
    assert service.resend_requests(asked_at + dt.timedelta(seconds=1), POLICY) == []  # recorded as asked
    assert ledger.sequences()["S1"].requests == 1 and ledger.sequences()["S1"].requested_at == asked_at

    service.ingest([message("S1", events[2:4]), message("S1", events)], NOW + dt.timedelta(minutes=2))  # the resend
    assert ledger.sequences()["S1"] == StoreSequence(Received(6))
    assert "drugtrace_missing_events 0\n" in render(ledger.counts(), None)
    assert service.resend_requests(NOW + dt.timedelta(days=1), POLICY) == []
    assert ledger.counts()["events"] == 7
    ledger.close()


def test_redelivered_and_quarantined_events_move_no_sequence(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    service = LedgerService(ledger, COUNTY, RuleSettings())
    first = message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)])
    service.ingest([first, first], NOW)
    service.ingest([message("S1", [sale("S2", 3, 20)])], NOW)  # claims another store: quarantined
    assert ledger.sequences() == {"S1": StoreSequence(Received(2))}
    ledger.close()


def test_a_ledger_from_before_sequences_counts_what_it_holds_as_complete(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    db = Database(path)
    migrations.apply(db, stop_before="m004_store_sequences")
    rows = [("S1", "a", "receipt", None, None, "R1", 4, "2026-11-24T01:00:00.000000+00:00",
             "2026-11-24T01:00:00.000000+00:00", b"{}"),
            ("S1", "b", "receipt", None, None, "R2", 9, "2026-11-24T01:00:00.000000+00:00",
             "2026-11-24T01:00:00.000000+00:00", b"{}")]
    db.conn.executemany("INSERT INTO events (store, id, type, code, person, doc, seq, at, received_at, body) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.conn.commit()
    db.close()
    ledger = SQLiteLedger(path)  # applies m004
    assert ledger.sequences() == {"S1": StoreSequence(Received(9))}
    ledger.close()


@given(st.lists(st.tuples(st.sampled_from(["S1", "S2"]), st.lists(st.integers(1, 12), min_size=1, max_size=4)),
                min_size=1, max_size=12))
@settings(deadline=None)
def test_the_in_place_extension_and_the_merge_agree_with_the_pure_rules(batches) -> None:  # type: ignore[no-untyped-def]
    """Batches that only extend a complete sequence take the in-place UPDATE; the others the merge."""
    with tempfile.TemporaryDirectory() as folder:
        ledger = SQLiteLedger(Path(folder) / "ledger.db")
        service = LedgerService(ledger, COUNTY, RuleSettings())
        expected: dict[str, Received] = {}
        for store, numbers in batches:
            new = [NewEvent(store, f"{store}-{n}", "sale", None, None, "D", n, "", "", b"{}", (), None)
                   for n in numbers]
            with ledger.transaction():
                service._advance_sequences(new, NOW)
            expected[store] = merge(expected.get(store, Received()), numbers)
        assert {store: state.received for store, state in ledger.sequences().items()} == expected
        ledger.close()
