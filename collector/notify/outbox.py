"""The notification outbox's operations on a ledger connection: route, queue digests, hand out, mark.

Each function is one short transaction (or one statement), so the sender never holds the ledger's
write lock while it talks to an endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from collector.notify.config import Endpoint
from collector.notify.messages import alert_payload, digest_payload
from collector.rules.model import Severity
from collector.store.base import stamp


@dataclass(frozen=True)
class Pending:
    notification: int
    payload: dict[str, Any]
    attempts: int


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def instance(conn: sqlite3.Connection) -> str:
    return str(conn.execute("SELECT value FROM notify_meta WHERE name = 'instance'").fetchone()[0])


def key_of(instance_id: str, notification: int) -> str:
    """The idempotency key: unique per notification, the same on every retry and every endpoint."""
    return f"drugtrace-{instance_id}-{notification}"


def wants(endpoint: Endpoint, county: str, kind: str, severity: str | None) -> bool:
    """Whether `endpoint` receives a notification of this kind and severity from this county."""
    if endpoint.counties and county not in endpoint.counties:
        return False
    if kind == "digest":
        return endpoint.digest
    try:
        return severity is not None and Severity(severity) >= endpoint.min_severity
    except ValueError:  # a severity this version does not know: better sent than lost
        return True


def _alert_columns(conn: sqlite3.Connection, alert_id: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT id, rule, severity, status, subject, code, stores, detail, first_seen, last_seen, follows, "
        "(SELECT count(*) FROM alert_evidence WHERE alert = alerts.id) FROM alerts WHERE id = ?",
        (alert_id,)).fetchone()
    names = ["id", "rule", "severity", "status", "subject", "code", "stores", "detail", "first_seen", "last_seen",
             "follows", "evidence_count"]
    columns = dict(zip(names, row))
    columns["stores"] = json.loads(columns["stores"])
    return columns


def _digest(conn: sqlite3.Connection, key: str, county: str, day: str, created_at: str,
            now: dt.datetime) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT rule, severity, count(*) FROM alerts WHERE state = 'open' GROUP BY rule, severity").fetchall()
    rank = {s.value: s.rank for s in Severity}
    rows.sort(key=lambda r: (-rank.get(r[1], -1), r[0]))
    new = conn.execute("SELECT count(*) FROM alerts WHERE first_seen >= ?",
                       (stamp(now - dt.timedelta(days=1)),)).fetchone()[0]
    return digest_payload(key, county, day, created_at, [(r, s, c) for r, s, c in rows], new)


def route(conn: sqlite3.Connection, endpoints: Sequence[Endpoint], county: str, now: dt.datetime,
          dashboard_url: str = "", limit: int = 100) -> Counter[str]:
    """Fix the payload of unrouted notifications and create one delivery per matching endpoint; returns the new
    deliveries per endpoint name. Routing happens once: an endpoint added later gets later notifications."""
    made: Counter[str] = Counter()
    with _write(conn):
        rows = conn.execute("SELECT id, kind, alert, severity, created_at, digest_day FROM notifications "
                            "WHERE routed_at IS NULL ORDER BY id LIMIT ?", (limit,)).fetchall()
        if not rows:
            return made
        this = instance(conn)
        for notification, kind, alert_id, severity, created_at, day in rows:
            key = key_of(this, notification)
            if kind == "digest":
                payload = _digest(conn, key, county, day, created_at, now)
            else:
                payload = alert_payload(key, kind, county, created_at, _alert_columns(conn, alert_id), dashboard_url)
            targets = [e.name for e in endpoints if wants(e, county, kind, severity)]
            conn.executemany("INSERT OR IGNORE INTO notification_deliveries (endpoint, notification) VALUES (?, ?)",
                             [(name, notification) for name in targets])
            conn.execute("UPDATE notifications SET routed_at = ?, payload = ? WHERE id = ?",
                         (stamp(now), json.dumps(payload, ensure_ascii=False), notification))
            made.update(targets)
    return made


def queue_digest(conn: sqlite3.Connection, day: dt.date, now: dt.datetime) -> bool:
    """Queue the digest of `day` unless it was queued already (by this or another process); True if queued."""
    with _write(conn):
        cursor = conn.execute("INSERT OR IGNORE INTO notifications (kind, created_at, digest_day) "
                              "VALUES ('digest', ?, ?)", (stamp(now), day.isoformat()))
    return cursor.rowcount == 1


def pending(conn: sqlite3.Connection, endpoint: str, limit: int = 20) -> list[Pending]:
    """The endpoint's undelivered notifications, oldest first."""
    rows = conn.execute(
        "SELECT d.notification, n.payload, d.attempts FROM notification_deliveries d "
        "JOIN notifications n ON n.id = d.notification WHERE d.endpoint = ? AND d.delivered_at IS NULL "
        "ORDER BY d.notification LIMIT ?", (endpoint, limit)).fetchall()
    return [Pending(n, json.loads(payload), attempts) for n, payload, attempts in rows]


def delivered(conn: sqlite3.Connection, endpoint: str, notification: int, now: dt.datetime) -> None:
    conn.execute("UPDATE notification_deliveries SET delivered_at = ?, attempts = attempts + 1, last_attempt = ?, "
                 "last_error = '' WHERE endpoint = ? AND notification = ?",
                 (stamp(now), stamp(now), endpoint, notification))


def failed(conn: sqlite3.Connection, endpoint: str, notification: int, now: dt.datetime, error: str) -> None:
    conn.execute("UPDATE notification_deliveries SET attempts = attempts + 1, last_attempt = ?, last_error = ? "
                 "WHERE endpoint = ? AND notification = ?", (stamp(now), error[:500], endpoint, notification))


def backlog(conn: sqlite3.Connection) -> dict[str, int]:
    """Undelivered notifications per endpoint name, and unrouted ones under ''."""
    result = dict(conn.execute("SELECT endpoint, count(*) FROM notification_deliveries WHERE delivered_at IS NULL "
                               "GROUP BY endpoint").fetchall())
    result[""] = conn.execute("SELECT count(*) FROM notifications WHERE routed_at IS NULL").fetchone()[0]
    return result
