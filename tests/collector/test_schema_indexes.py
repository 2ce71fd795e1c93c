"""The events table carries one (store, at) index, for the rules and the dashboard alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from collector.store.sqlite import SQLiteLedger
from collector.web.db import prepare

OLD_INDEXES = ["CREATE INDEX events_settled ON events(store, at) WHERE type = 'settlement'",
               "CREATE INDEX dash_events_store_at ON events(store, at)"]


def event_indexes(ledger: SQLiteLedger) -> set[str]:
    return {name for (name,) in ledger.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL")}


def test_a_new_ledger_with_the_dashboard_has_one_store_time_index(tmp_path: Path) -> None:
    prepare(tmp_path / "ledger.db")
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    assert event_indexes(ledger) == {"events_identity", "events_code", "events_doc", "events_person",
                                     "events_store_at"}
    plan = " ".join(str(row) for row in ledger.conn.execute(
        "EXPLAIN QUERY PLAN SELECT body FROM events WHERE type = 'settlement' AND store = ? AND at >= ? AND at < ?",
        ("S1", "2026-11-23", "2026-11-24")))
    assert "events_store_at" in plan
    start = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)
    assert ledger.store_settlements("S1", start, start + dt.timedelta(days=1)) == []
    ledger.close()


def test_an_upgraded_ledger_drops_the_two_old_store_time_indexes(tmp_path: Path) -> None:
    prepare(tmp_path / "ledger.db")
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    ledger.conn.execute("DROP INDEX events_store_at")
    for statement in OLD_INDEXES:  # as a ledger made before m003 had them
        ledger.conn.execute(statement)
    ledger.conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_store_time_index'")
    ledger.close()
    prepare(tmp_path / "ledger.db")
    upgraded = SQLiteLedger(tmp_path / "ledger.db")
    assert "events_store_at" in event_indexes(upgraded)
    assert not event_indexes(upgraded) & {"events_settled", "dash_events_store_at"}
    upgraded.close()
