"""The alert queue (filters, sort orders, keyset pages) and one alert with its proof, read from the ledger.

Statuses are the lifecycle's (collector.alerts: new, acknowledged, confirmed, dismissed,
withdrawn); "open" means the ledger still counts the alert open (new or acknowledged). Every
sort order has an index (collector/web/schema.py), and a page continues after the last alert
of the previous one (`after`), so page 1000 costs what page 1 does.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

from collector.web.schema import SEVERITY_RANK
from collector.web.store_queries import TimelineEvent, decode

OPEN = "open"
CLOSED = "closed"
STATUSES = ("new", "acknowledged", "confirmed", "dismissed", "withdrawn")
SEVERITIES = ("critical", "high", "medium", "low")


class Sort(enum.Enum):
    SEVERITY = "severity"  # most severe first, then newest
    NEWEST = "newest"
    OLDEST = "oldest"
    LAST_SEEN = "last_seen"  # most recently raised or extended first


# (ORDER BY, the sort key of one alert, the keyset condition after an alert whose key is k and id i, which of
# (k, i) it binds). The key's part is a plain range (`k <= ?`), which SQLite seeks in the index; a row-value
# comparison on an expression would be scanned instead.
_ORDER: dict[Sort, tuple[str, str, str, str]] = {
    Sort.SEVERITY: (f"{SEVERITY_RANK} DESC, id DESC", SEVERITY_RANK,
                    f"{SEVERITY_RANK} <= ? AND ({SEVERITY_RANK} < ? OR id < ?)", "kki"),
    Sort.NEWEST: ("id DESC", "id", "id < ?", "i"),
    Sort.OLDEST: ("id ASC", "id", "id > ?", "i"),
    Sort.LAST_SEEN: ("last_seen DESC, id DESC", "last_seen", "last_seen <= ? AND (last_seen < ? OR id < ?)", "kki"),
}


@dataclass(frozen=True)
class AlertFilter:
    """What the auditor asked for; empty strings mean "any"."""

    status: str = OPEN  # a lifecycle status, OPEN, CLOSED or "" for all
    rule: str = ""
    severity: str = ""
    store: str = ""
    code: str = ""
    day_from: dt.date | None = None  # first seen on or after this local day
    day_to: dt.date | None = None  # ... and on or before this one
    sort: Sort = Sort.SEVERITY


@dataclass(frozen=True)
class AlertRow:
    id: int
    rule: str
    severity: str
    status: str
    state: str
    subject: str
    stores: tuple[str, ...]
    code: str | None
    detail: str
    first_seen: str
    last_seen: str
    closure: str | None


_COLUMNS = "id, rule, severity, status, state, subject, stores, code, detail, first_seen, last_seen, closure"


def _row(row: tuple) -> AlertRow:  # type: ignore[type-arg]
    return AlertRow(row[0], row[1], row[2], row[3], row[4], row[5], tuple(json.loads(row[6])), *row[7:])


def _utc_bound(day: dt.date, utc_offset_minutes: int) -> str:
    start = dt.datetime.combine(day, dt.time(0), dt.timezone(dt.timedelta(minutes=utc_offset_minutes)))
    return start.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _where(f: AlertFilter, utc_offset_minutes: int) -> tuple[list[str], list[object]]:
    where: list[str] = []
    args: list[object] = []
    if f.status == OPEN:
        where.append("state = 'open'")
    elif f.status == CLOSED:
        where.append("state = 'closed'")  # confirmed or dismissed (the lifecycle keeps the ledger's state)
    elif f.status:
        where.append("status = ?")
        args.append(f.status)
    for column, value in (("rule", f.rule), ("severity", f.severity), ("code", f.code)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    if f.store:
        where.append("id IN (SELECT alert FROM dash_alert_stores WHERE store = ?)")
        args.append(f.store)
    if f.day_from:
        where.append("first_seen >= ?")
        args.append(_utc_bound(f.day_from, utc_offset_minutes))
    if f.day_to:
        where.append("first_seen < ?")
        args.append(_utc_bound(f.day_to + dt.timedelta(days=1), utc_offset_minutes))
    return where, args


def queue(conn: sqlite3.Connection, f: AlertFilter, utc_offset_minutes: int, after: int | None = None,
          limit: int = 50) -> list[AlertRow]:
    """One page of alerts matching `f` in its sort order, continuing after alert `after`."""
    where, args = _where(f, utc_offset_minutes)
    sort = Sort.NEWEST if f.severity and f.sort is Sort.SEVERITY else f.sort  # one severity: same order
    order, key, keyset, binds = _ORDER[sort]
    if after is not None:
        found = conn.execute(f"SELECT {key}, id FROM alerts WHERE id = ?", (after,)).fetchone()
        if found is not None:
            where.append(keyset)
            args.extend(found[0] if b == "k" else found[1] for b in binds)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM alerts {clause} ORDER BY {order} LIMIT ?", (*args, limit))
    return [_row(row) for row in rows]


def every(conn: sqlite3.Connection, f: AlertFilter, utc_offset_minutes: int, batch: int = 1000) -> Iterator[AlertRow]:
    """All matching alerts, fetched a keyset page at a time (for CSV export)."""
    after = None
    while True:
        page = queue(conn, f, utc_offset_minutes, after, batch)
        yield from page
        if len(page) < batch:
            return
        after = page[-1].id


def store_alerts(conn: sqlite3.Connection, store: str, limit: int = 50) -> list[AlertRow]:
    return queue(conn, AlertFilter(status="", store=store, sort=Sort.NEWEST), 0, None, limit)


@dataclass(frozen=True)
class TrailRecord:
    at: str
    actor: str
    role: str
    action: str
    from_status: str | None
    to_status: str
    closure: str | None
    note: str


@dataclass(frozen=True)
class AlertPage:
    alert: AlertRow
    evidence: list[TimelineEvent]
    missing_evidence: list[str]  # evidence ids with no stored event (never expected)
    history: list[TimelineEvent]  # the code's events across the county, store time order
    trail: list[TrailRecord]
    stills: list[tuple[str, str, str]] = field(default_factory=list)  # (store, event id, image name)


_EVENT_COLUMNS = "rowid, id, type, code, doc, seq, at, received_at, body"


def _events(rows: list[tuple]) -> list[TimelineEvent]:  # type: ignore[type-arg]
    return [TimelineEvent(*row[:8], decode(row[8])) for row in rows]


def code_history(conn: sqlite3.Connection, code: str, limit: int = 1000) -> list[TimelineEvent]:
    """Every event of a code (and case receipts that list it), oldest store time first."""
    return _events(conn.execute(
        f"SELECT {_EVENT_COLUMNS} FROM (SELECT {_EVENT_COLUMNS}, store FROM events WHERE code = ? "
        f"UNION SELECT e.rowid, e.id, e.type, e.code, e.doc, e.seq, e.at, e.received_at, e.body, e.store "
        f"FROM case_codes c JOIN events e ON e.rowid = c.event WHERE c.code = ?) ORDER BY at, store, seq LIMIT ?",
        (code, code, limit)).fetchall())


def alert_page(conn: sqlite3.Connection, alert_id: int) -> AlertPage | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    if row is None:
        return None
    alert = _row(row)
    ids = [e for (e,) in conn.execute("SELECT event FROM alert_evidence WHERE alert = ? ORDER BY event", (alert_id,))]
    evidence = _events(conn.execute(
        f"SELECT {', '.join('e.' + c for c in _EVENT_COLUMNS.split(', '))} FROM alert_evidence a "
        "JOIN events e ON e.id = a.event WHERE a.alert = ? ORDER BY e.at, e.store, e.seq", (alert_id,)).fetchall())
    found = {e.id for e in evidence}
    history = code_history(conn, alert.code) if alert.code else []
    trail = [TrailRecord(*r) for r in conn.execute(
        "SELECT at, actor, role, action, from_status, to_status, closure, note FROM alert_actions "
        "WHERE alert = ? ORDER BY id", (alert_id,))]
    return AlertPage(alert, evidence, [i for i in ids if i not in found], history, trail, _stills(conn, evidence))


def _stills(conn: sqlite3.Connection, evidence: list[TimelineEvent]) -> list[tuple[str, str, str]]:
    """Camera stills for the evidence: its camera_evidence events, and those of its settlements' documents."""
    cameras = [e for e in evidence if e.type == "camera_evidence"]
    docs = {(e.event.store, e.doc) for e in evidence if e.type == "settlement" and e.event is not None}
    for store, doc in sorted(docs):
        cameras.extend(_events(conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE store = ? AND doc = ? AND type = 'camera_evidence'",
            (store, doc)).fetchall()))
    stills = []
    seen = set()
    for camera in cameras:
        name = getattr(camera.event, "still_image", None)
        if camera.event is not None and name and camera.id not in seen:
            seen.add(camera.id)
            stills.append((camera.event.store, camera.id, name))
    return stills
