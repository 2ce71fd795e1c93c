"""Reading and writing an alert's lifecycle status and audit trail (inside the caller's transaction)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from collector.alerts.errors import AlertNotFound, Refusal, TransitionRefused
from collector.alerts.lifecycle import Action, AuditRecord, ClosureCode, Role, Status, Transition
from collector.store.base import AlertState, stamp

LEDGER_STATE = {
    Status.NEW: AlertState.OPEN, Status.ACKNOWLEDGED: AlertState.OPEN, Status.CONFIRMED: AlertState.CLOSED,
    Status.DISMISSED: AlertState.CLOSED, Status.WITHDRAWN: AlertState.WITHDRAWN,
}


def current_status(conn: sqlite3.Connection, alert_id: int) -> Status:
    row = conn.execute("SELECT status FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    if row is None:
        raise AlertNotFound(alert_id)
    return Status(row[0])


def write(conn: sqlite3.Connection, transition: Transition) -> None:
    """Store the transition's status on the alert and its record in the trail (one transaction: the caller's)."""
    record = transition.record
    closure = record.closure.value if record.closure is not None else None
    when = stamp(record.at)
    try:
        if record.action is Action.CLOSE:
            conn.execute("UPDATE alerts SET status = ?, state = ?, closure = ? WHERE id = ?",
                         (transition.status.value, LEDGER_STATE[transition.status].value, closure, record.alert))
        elif record.action is Action.REOPEN:
            conn.execute("UPDATE alerts SET status = ?, state = ?, closure = NULL, last_seen = ? WHERE id = ?",
                         (transition.status.value, LEDGER_STATE[transition.status].value, when, record.alert))
        else:
            conn.execute("UPDATE alerts SET status = ?, state = ? WHERE id = ?",
                         (transition.status.value, LEDGER_STATE[transition.status].value, record.alert))
    except sqlite3.IntegrityError:  # the one-open-alert-per-(rule, subject) index
        other = conn.execute(
            "SELECT o.id FROM alerts a JOIN alerts o ON o.rule = a.rule AND o.subject = a.subject "
            "AND o.state = 'open' AND o.id <> a.id WHERE a.id = ?", (record.alert,)).fetchone()
        raise TransitionRefused(record.alert, record.action.value, Refusal.CONFLICT,
                                f"alert {other[0] if other else '?'} of the same rule and subject is open; "
                                "work on that one.") from None
    conn.execute(
        "INSERT INTO alert_actions (alert, at, actor, role, action, from_status, to_status, closure, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (record.alert, when, record.actor, record.role.value, record.action.value,
         record.from_status.value if record.from_status else None, record.to_status.value, closure, record.note))


def trail(conn: sqlite3.Connection, alert_id: int) -> list[AuditRecord]:
    """The alert's audit trail, oldest first."""
    rows = conn.execute(
        "SELECT alert, actor, role, action, at, from_status, to_status, closure, note FROM alert_actions "
        "WHERE alert = ? ORDER BY id", (alert_id,)).fetchall()
    return [AuditRecord(alert, actor, Role(role), Action(action), dt.datetime.fromisoformat(at),
                        Status(src) if src else None, Status(dst), ClosureCode(closure) if closure else None, note)
            for alert, actor, role, action, at, src, dst, closure, note in rows]
