"""Daily aggregates: counted incrementally, once per event, by the county-local day, as rule 10 counts boxes."""

from __future__ import annotations

from drugtrace.events import Payment
from collector.web import aggregates
from collector.web.db import connect
from tests.collector.web.support import ingest, message, receipt, sale, settlement


def _day(path, store: str) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    conn = connect(path)
    aggregates.refresh_all(conn, 480)
    row = conn.execute("SELECT receipts, sales, settlements, insured, boxes_required, boxes_coded, events "
                       "FROM dash_daily WHERE store = ? AND day = '2026-11-23'", (store,)).fetchone()
    conn.close()
    return row  # type: ignore[no-any-return]


def test_collection_boxes_follow_rule_10(app, ledger_path) -> None:
    events = [
        settlement("S5", 1, 0, "D1", required=3, codes=2),  # 2 of 3
        settlement("S5", 2, 1, "D2", required=2, codes=2, exempt=True),  # exempt: left out
        settlement("S5", 3, 2, "D3", required=2, codes=2, overridden=True),  # override: 0 of 2
        settlement("S5", 4, 3, "D4", required=4, codes=9),  # more codes than boxes: 4 of 4
        settlement("S5", 5, 4, "D5", required=5, codes=0, payment=Payment.SELF_PAY),  # not insurance: left out
    ]
    ingest(ledger_path, [message("S5", events)])
    assert _day(ledger_path, "S5") == (0, 0, 5, 4, 3 + 2 + 4, 2 + 0 + 4, 5)


def test_increments_count_each_event_once_even_when_redelivered(app, ledger_path) -> None:
    first = [receipt("S6", 1, 0), sale("S6", 2, 1)]
    ingest(ledger_path, [message("S6", first)])
    assert _day(ledger_path, "S6") == (1, 1, 0, 0, 0, 0, 2)
    ingest(ledger_path, [message("S6", first + [sale("S6", 3, 2, doc="D9")])])  # a resend plus one new event
    assert _day(ledger_path, "S6") == (1, 2, 0, 0, 0, 0, 3)


def test_refresh_steps_are_bounded_and_resume(app, ledger_path) -> None:
    ingest(ledger_path, [message("S7", [receipt("S7", n, n, doc=f"R{n}") for n in range(1, 8)])])
    conn = connect(ledger_path)
    done = [aggregates.refresh(conn, 480, limit=3) for _ in range(4)]
    row = conn.execute("SELECT receipts FROM dash_daily WHERE store = 'S7'").fetchone()
    conn.close()
    assert done == [3, 3, 1, 0] and row == (7,)


def test_events_late_in_the_local_evening_count_for_that_day(app, ledger_path) -> None:
    import datetime as dt
    from tests.collector.web.support import at
    late = receipt("S8", 1, (dt.datetime(2026, 11, 23, 23, 59, tzinfo=at(0).tzinfo) - at(0)).total_seconds() / 60)
    ingest(ledger_path, [message("S8", [late])])  # 23:59 local is 15:59 UTC the same date; 00:01 local would not be
    after = receipt("S8", 2, (dt.datetime(2026, 11, 24, 0, 1, tzinfo=at(0).tzinfo) - at(0)).total_seconds() / 60)
    ingest(ledger_path, [message("S8", [after])])
    conn = connect(ledger_path)
    aggregates.refresh_all(conn, 480)
    rows = conn.execute("SELECT day, receipts FROM dash_daily WHERE store = 'S8' ORDER BY day").fetchall()
    conn.close()
    assert rows == [("2026-11-23", 1), ("2026-11-24", 1)]
