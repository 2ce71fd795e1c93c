"""What the overview and store pages show, read from the ledger with indexed queries only.

Per-page cost stays flat as the ledger grows: counts come from the daily aggregates, a store's
timeline is a keyset page of the (store, at) index, status tables hold one row per store.
"""

from __future__ import annotations

import datetime as dt
import enum
import sqlite3
from dataclasses import dataclass

import msgspec

from collector.sequences import Range, Received, above_from_json, holes
from collector.sequences import count as count_numbers
from drugtrace.events import AnyEvent, Heartbeat

_decoder = msgspec.json.Decoder(AnyEvent)


class Health(enum.Enum):
    ONLINE = "online"  # a recent heartbeat
    SILENT = "silent"  # connected or not, but no heartbeat for longer than the threshold
    OFFLINE = "offline"  # the broker published the store's last will (or the agent said goodbye)
    UNKNOWN = "unknown"  # no heartbeat and no broker status ever (perhaps events: liveness unknown)


def parse_stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def store_health(status: str | None, status_at: str | None, heartbeat_received: str | None, now: dt.datetime,
                 silent_after: dt.timedelta) -> Health:
    """A store's health from its retained status and its latest heartbeat's arrival.

    >>> now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    >>> store_health("offline", "2026-11-23T08:00:00+00:00", "2026-11-23T08:59:00+00:00", now, dt.timedelta(minutes=15))
    <Health.ONLINE: 'online'>
    >>> store_health("offline", "2026-11-23T08:50:00+00:00", "2026-11-23T08:40:00+00:00", now, dt.timedelta(minutes=15))
    <Health.OFFLINE: 'offline'>
    """
    beat = parse_stamp(heartbeat_received) if heartbeat_received else None
    if status == "offline" and (beat is None or status_at is None or beat <= parse_stamp(status_at)):
        return Health.OFFLINE
    if beat is not None and now - beat <= silent_after:
        return Health.ONLINE
    if beat is None and status is None:
        return Health.UNKNOWN
    return Health.SILENT


@dataclass(frozen=True)
class DayCounts:
    day: str
    receipts: int = 0
    sales: int = 0
    settlements: int = 0
    insured: int = 0
    boxes_required: int = 0
    boxes_coded: int = 0

    @property
    def collection_rate(self) -> float | None:
        return None if self.boxes_required == 0 else self.boxes_coded / self.boxes_required


@dataclass(frozen=True)
class StoreRow:
    store: str
    health: Health
    status: str | None
    heartbeat_received: str | None
    outbox_depth: int | None
    today: DayCounts
    open_alerts: int


@dataclass(frozen=True)
class Overview:
    today: DayCounts
    trend: tuple[DayCounts, ...]  # oldest first
    health: dict[Health, int]
    open_by_severity: dict[str, int]
    open_by_rule: dict[str, int]
    stores: int


@dataclass(frozen=True)
class TimelineEvent:
    rowid: int
    id: str
    type: str
    code: str | None
    doc: str
    seq: int
    at: str
    received_at: str
    event: AnyEvent | None  # None when the body no longer decodes (never expected)


def local_day(now: dt.datetime, utc_offset_minutes: int) -> dt.date:
    return (now.astimezone(dt.timezone.utc) + dt.timedelta(minutes=utc_offset_minutes)).date()


_DAY_COLUMNS = "day, sum(receipts), sum(sales), sum(settlements), sum(insured), sum(boxes_required), sum(boxes_coded)"


def _day(row: tuple) -> DayCounts:  # type: ignore[type-arg]
    return DayCounts(row[0], *(int(v or 0) for v in row[1:]))


def county_days(conn: sqlite3.Connection, first: dt.date, last: dt.date) -> list[DayCounts]:
    """County totals per local day in [first, last], with empty days filled in."""
    found = {row[0]: _day(row) for row in conn.execute(
        f"SELECT {_DAY_COLUMNS} FROM dash_daily WHERE day BETWEEN ? AND ? GROUP BY day",
        (first.isoformat(), last.isoformat()))}
    return [found.get(d, DayCounts(d)) for d in _days(first, last)]


def store_days(conn: sqlite3.Connection, store: str, first: dt.date, last: dt.date) -> list[DayCounts]:
    found = {row[0]: _day(row) for row in conn.execute(
        f"SELECT {_DAY_COLUMNS} FROM dash_daily WHERE store = ? AND day BETWEEN ? AND ? GROUP BY day",
        (store, first.isoformat(), last.isoformat()))}
    return [found.get(d, DayCounts(d)) for d in _days(first, last)]


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _presence(conn: sqlite3.Connection) -> dict[str, tuple[str | None, str | None, str | None]]:
    """store → (status, status at, heartbeat received_at) for every store known anywhere."""
    known: dict[str, tuple[str | None, str | None, str | None]] = {
        store: (None, None, None) for (store,) in conn.execute("SELECT store FROM dash_stores")}
    for store, state, at in conn.execute("SELECT store, state, at FROM store_status"):
        known[store] = (state, at, None)
    for store, received in conn.execute("SELECT store, received_at FROM store_health"):
        state, at, _ = known.get(store, (None, None, None))
        known[store] = (state, at, received)
    return known


def overview(conn: sqlite3.Connection, now: dt.datetime, utc_offset_minutes: int, silent_after: dt.timedelta,
             days: int = 14) -> Overview:
    today = local_day(now, utc_offset_minutes)
    trend = county_days(conn, today - dt.timedelta(days=days - 1), today)
    presence = _presence(conn)
    health = {h: 0 for h in Health}
    for status, status_at, beat in presence.values():
        health[store_health(status, status_at, beat, now, silent_after)] += 1
    by_severity: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    for severity, rule, count in conn.execute(
            "SELECT severity, rule, count(*) FROM alerts INDEXED BY dash_alerts_open_counts WHERE state = 'open' "
            "GROUP BY severity, rule"):
        by_severity[severity] = by_severity.get(severity, 0) + count
        by_rule[rule] = by_rule.get(rule, 0) + count
    return Overview(trend[-1], tuple(trend), health, by_severity, by_rule, len(presence))


def stores(conn: sqlite3.Connection, now: dt.datetime, utc_offset_minutes: int, silent_after: dt.timedelta,
           search: str = "", health: Health | None = None) -> list[StoreRow]:
    """Every store (a county has hundreds), filtered by a substring of its id and by health."""
    today = local_day(now, utc_offset_minutes).isoformat()
    presence = _presence(conn)
    counts = {row[0]: _day(row[1:]) for row in conn.execute(
        f"SELECT store, {_DAY_COLUMNS} FROM dash_daily WHERE day = ? GROUP BY store", (today,))}
    depth = {store: heartbeat_of(body) for store, body in conn.execute(
        "SELECT h.store, e.body FROM store_health h JOIN events e ON e.rowid = h.heartbeat")}
    alerts = dict(conn.execute("SELECT j.value, count(*) FROM alerts a INDEXED BY dash_alerts_open_counts, "
                               "json_each(a.stores) j WHERE a.state = 'open' GROUP BY j.value").fetchall())
    needle = search.strip().casefold()
    rows = []
    for store in sorted(presence):
        if needle and needle not in store.casefold():
            continue
        status, status_at, beat = presence[store]
        state = store_health(status, status_at, beat, now, silent_after)
        if health is not None and state is not health:
            continue
        heartbeat = depth.get(store)
        rows.append(StoreRow(store, state, status, beat, heartbeat.outbox_depth if heartbeat else None,
                             counts.get(store, DayCounts(today)), alerts.get(store, 0)))
    return rows


def heartbeat_of(body: bytes) -> Heartbeat | None:
    try:
        event = _decoder.decode(body)
    except msgspec.DecodeError:
        return None
    return event if isinstance(event, Heartbeat) else None


@dataclass(frozen=True)
class StorePage:
    store: str
    health: Health
    status: str | None
    status_at: str | None
    heartbeat: Heartbeat | None
    heartbeat_received: str | None
    known: bool
    missing: tuple[Range, ...] = ()  # holes in the store's sequence numbers (collector.sequences)
    resend_requests: int = 0  # times the current holes were asked for again

    @property
    def missing_count(self) -> int:
        return count_numbers(self.missing)


def store_page(conn: sqlite3.Connection, store: str, now: dt.datetime, silent_after: dt.timedelta) -> StorePage:
    known = conn.execute("SELECT 1 FROM dash_stores WHERE store = ?", (store,)).fetchone() is not None
    status = conn.execute("SELECT state, at FROM store_status WHERE store = ?", (store,)).fetchone()
    beat = conn.execute("SELECT e.body, h.received_at FROM store_health h JOIN events e ON e.rowid = h.heartbeat "
                        "WHERE h.store = ?", (store,)).fetchone()
    sequence = conn.execute("SELECT contiguous, above, requests FROM store_sequences WHERE store = ?",
                            (store,)).fetchone()
    state, state_at = status if status else (None, None)
    received = beat[1] if beat else None
    missing = holes(Received(sequence[0], above_from_json(sequence[1]))) if sequence else []
    return StorePage(store, store_health(state, state_at, received, now, silent_after), state, state_at,
                     heartbeat_of(beat[0]) if beat else None, received,
                     known or status is not None or beat is not None, tuple(missing),
                     sequence[2] if sequence and missing else 0)


def timeline(conn: sqlite3.Connection, store: str, before: tuple[str, int] | None = None,
             limit: int = 50) -> list[TimelineEvent]:
    """The store's events, newest store time first; `before` = (at, rowid) of the previous page's last row."""
    at, rowid = before if before else ("\uffff", 2**62)
    rows = conn.execute(
        "SELECT rowid, id, type, code, doc, seq, at, received_at, body FROM events "
        "WHERE store = ? AND (at, rowid) < (?, ?) ORDER BY at DESC, rowid DESC LIMIT ?",
        (store, at, rowid, limit)).fetchall()
    return [TimelineEvent(*row[:8], decode(row[8])) for row in rows]


def decode(body: bytes) -> AnyEvent | None:
    try:
        return _decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
