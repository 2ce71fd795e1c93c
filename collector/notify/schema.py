"""The notification outbox in the ledger database (its own sqlite-utils migration set).

Triggers on `alerts` write a `notifications` row in the same transaction as the change that causes
it (a new alert, an escalation, a reopen), so no notification can be lost between the alert's
commit and its sending. The notifier routes each row once to the matching endpoints
(`notification_deliveries`) and marks a delivery done only when the endpoint accepted it.
Requires the lifecycle migrations (collector/alerts/schema.py) first.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from collector.alerts.schema import ESCALATED

migrations = Migrations("drugtrace-notify")


@migrations()
def m001_outbox(db: Database) -> None:
    for statement in [
        "CREATE TABLE notify_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
        # Part of every idempotency key, so that keys stay unique if a county's database is ever rebuilt.
        "INSERT INTO notify_meta (name, value) VALUES ('instance', lower(hex(randomblob(8))))",
        """CREATE TABLE notifications (
            id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, alert INTEGER REFERENCES alerts(id),
            severity TEXT, created_at TEXT NOT NULL, digest_day TEXT UNIQUE, routed_at TEXT, payload TEXT)""",
        "CREATE INDEX notifications_unrouted ON notifications(id) WHERE routed_at IS NULL",
        """CREATE TABLE notification_deliveries (
            endpoint TEXT NOT NULL, notification INTEGER NOT NULL REFERENCES notifications(id),
            delivered_at TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_attempt TEXT,
            last_error TEXT NOT NULL DEFAULT '', PRIMARY KEY (endpoint, notification)) WITHOUT ROWID""",
        "CREATE INDEX notification_deliveries_pending ON notification_deliveries(endpoint, notification) "
        "WHERE delivered_at IS NULL",
        """CREATE TRIGGER notify_alert_new AFTER INSERT ON alerts BEGIN
            INSERT INTO notifications (kind, alert, severity, created_at)
            VALUES ('new', new.id, new.severity, new.first_seen); END""",
        f"""CREATE TRIGGER notify_alert_escalated AFTER UPDATE OF severity, stores ON alerts WHEN {ESCALATED} BEGIN
            INSERT INTO notifications (kind, alert, severity, created_at)
            VALUES ('escalated', new.id, new.severity, new.last_seen); END""",
        """CREATE TRIGGER notify_alert_reopened AFTER UPDATE OF status ON alerts
            WHEN old.status IN ('confirmed', 'dismissed') AND new.status = 'new' BEGIN
            INSERT INTO notifications (kind, alert, severity, created_at)
            VALUES ('reopened', new.id, new.severity, new.last_seen); END""",
    ]:
        db.execute(statement)


def apply(conn: sqlite3.Connection) -> None:
    """Apply pending outbox migrations (after the ledger's and the lifecycle's)."""
    migrations.apply(Database(conn))
