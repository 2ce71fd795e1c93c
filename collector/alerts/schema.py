"""The lifecycle's additions to the ledger, as sqlite-utils migrations of their own set.

Additive only: columns on `alerts` (status, closure, follows) and the `alert_actions` audit trail.
The ledger's own alert writes (raise, extend, withdraw in collector/store/sqlite.py) are recorded
in the trail by triggers, so they commit with the change whatever code made it.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from collector.rules.model import Severity

migrations = Migrations("drugtrace-alerts")


def severity_rank(column: str) -> str:
    """SQL for a severity column's rank (low 0 … critical 3), from the Severity enum."""
    cases = " ".join(f"WHEN '{s.value}' THEN {s.rank}" for s in Severity)
    return f"(CASE {column} {cases} ELSE -1 END)"


# An open alert escalates when its severity rises or stores are added (the ledger only ever adds).
ESCALATED = (f"old.state = 'open' AND new.state = 'open' AND "
             f"({severity_rank('new.severity')} > {severity_rank('old.severity')} OR new.stores <> old.stores)")


@migrations()
def m001_lifecycle(db: Database) -> None:
    for statement in [
        "ALTER TABLE alerts ADD COLUMN status TEXT NOT NULL DEFAULT 'new'",
        "ALTER TABLE alerts ADD COLUMN closure TEXT",
        "ALTER TABLE alerts ADD COLUMN follows INTEGER REFERENCES alerts(id)",  # the confirmed alert it follows up
        "UPDATE alerts SET status = 'withdrawn' WHERE state = 'withdrawn'",
        "UPDATE alerts SET status = 'dismissed', closure = 'dismissed_other' WHERE state = 'closed'",
        """CREATE TABLE alert_actions (
            id INTEGER PRIMARY KEY, alert INTEGER NOT NULL REFERENCES alerts(id), at TEXT NOT NULL,
            actor TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL,
            closure TEXT, note TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX alert_actions_alert ON alert_actions(alert, id)",
        "CREATE INDEX alerts_rule_subject_status ON alerts(rule, subject, status)",
        # the trail of alerts raised before this migration
        """INSERT INTO alert_actions (alert, at, actor, role, action, from_status, to_status, note)
            SELECT id, first_seen, 'system', 'system', 'raise', NULL, 'new', '' FROM alerts ORDER BY id""",
        """INSERT INTO alert_actions (alert, at, actor, role, action, from_status, to_status, closure, note)
            SELECT id, last_seen, 'system', 'system', CASE status WHEN 'withdrawn' THEN 'withdraw' ELSE 'close' END,
            'new', status, closure, 'before the lifecycle existed' FROM alerts WHERE status <> 'new' ORDER BY id""",
        # raise: a new alert; it follows up the latest confirmed alert of its rule and subject, if any
        """CREATE TRIGGER alerts_lifecycle_raise AFTER INSERT ON alerts BEGIN
            UPDATE alerts SET follows = (SELECT p.id FROM alerts p WHERE p.rule = new.rule AND p.subject = new.subject
                AND p.status = 'confirmed' AND p.id < new.id ORDER BY p.id DESC LIMIT 1) WHERE id = new.id;
            INSERT INTO alert_actions (alert, at, actor, role, action, from_status, to_status, note)
            VALUES (new.id, new.first_seen, 'system', 'system', 'raise', NULL, 'new', new.detail); END""",
        f"""CREATE TRIGGER alerts_lifecycle_escalate AFTER UPDATE OF severity, stores ON alerts WHEN {ESCALATED} BEGIN
            INSERT INTO alert_actions (alert, at, actor, role, action, from_status, to_status, note)
            VALUES (new.id, new.last_seen, 'system', 'system', 'escalate', new.status, new.status,
                    'severity ' || old.severity || ' → ' || new.severity || '; stores ' || old.stores || ' → '
                    || new.stores); END""",
        """CREATE TRIGGER alerts_lifecycle_withdraw AFTER UPDATE OF state ON alerts
            WHEN old.state = 'open' AND new.state = 'withdrawn' BEGIN
            UPDATE alerts SET status = 'withdrawn' WHERE id = new.id;
            INSERT INTO alert_actions (alert, at, actor, role, action, from_status, to_status, note)
            VALUES (new.id, new.last_seen, 'system', 'system', 'withdraw', old.status, 'withdrawn', ''); END""",
    ]:
        db.execute(statement)


def apply(conn: sqlite3.Connection) -> None:
    """Apply pending lifecycle migrations (after the ledger's own)."""
    migrations.apply(Database(conn))
