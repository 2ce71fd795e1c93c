"""The dashboard's own tables and indexes, as sqlite-utils migrations applied on the ledger database.

Additive only: the ledger's tables (collector/store/schema.py, with the alert lifecycle's columns
from collector/alerts/schema.py, applied first) are not changed, only indexed and watched by
triggers. Everything here is prefixed `dash_`.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("drugtrace-dashboard")

# Alert severity as a number, so that "most severe first" can use an index. Queries must repeat this
# expression exactly for SQLite to use the expression indexes below.
SEVERITY_RANK = ("(CASE severity WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END)")


@migrations()
def m001_accounts(db: Database) -> None:
    for statement in [
        """CREATE TABLE dash_users (
            username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
            created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID""",
        # Server-side sessions: the cookie carries a random id, the table its hash (revocable, timed out).
        """CREATE TABLE dash_sessions (
            id_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES dash_users(username),
            created_at TEXT NOT NULL, last_seen TEXT NOT NULL) WITHOUT ROWID""",
        "CREATE INDEX dash_sessions_user ON dash_sessions(username)",
        """CREATE TABLE dash_api_tokens (
            token_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES dash_users(username),
            label TEXT NOT NULL, created_at TEXT NOT NULL, last_used TEXT) WITHOUT ROWID""",
        # Sign-ins (good and bad), sign-outs and every alert action, newest last.
        """CREATE TABLE dash_audit (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, username TEXT NOT NULL, action TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX dash_audit_user ON dash_audit(username, id)",
        "CREATE TABLE dash_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ]:
        db.execute(statement)


@migrations()
def m002_read_model(db: Database) -> None:
    for statement in [
        # Per store and local day: counts by event type and the collection-rate numerators (rule 10).
        """CREATE TABLE dash_daily (
            store TEXT NOT NULL, day TEXT NOT NULL, receipts INTEGER NOT NULL DEFAULT 0,
            sales INTEGER NOT NULL DEFAULT 0, settlements INTEGER NOT NULL DEFAULT 0,
            insured INTEGER NOT NULL DEFAULT 0, boxes_required INTEGER NOT NULL DEFAULT 0,
            boxes_coded INTEGER NOT NULL DEFAULT 0, events INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (store, day)) WITHOUT ROWID""",
        "CREATE INDEX dash_daily_day ON dash_daily(day)",
        # Every store that ever sent an event, with its first and latest local day.
        """CREATE TABLE dash_stores (store TEXT PRIMARY KEY, first_day TEXT NOT NULL, last_day TEXT NOT NULL,
            events INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID""",
        # Events up to this rowid are counted in dash_daily.
        "INSERT INTO dash_settings (name, value) VALUES ('daily_rowid', '0')",
        # Which stores each alert names (alerts.stores is a JSON list), kept by triggers.
        """CREATE TABLE dash_alert_stores (store TEXT NOT NULL, alert INTEGER NOT NULL,
            PRIMARY KEY (store, alert)) WITHOUT ROWID""",
        """CREATE TRIGGER dash_alert_stores_insert AFTER INSERT ON alerts BEGIN
            INSERT OR IGNORE INTO dash_alert_stores (store, alert)
            SELECT value, new.id FROM json_each(new.stores); END""",
        """CREATE TRIGGER dash_alert_stores_update AFTER UPDATE OF stores ON alerts BEGIN
            INSERT OR IGNORE INTO dash_alert_stores (store, alert)
            SELECT value, new.id FROM json_each(new.stores); END""",
        "INSERT OR IGNORE INTO dash_alert_stores (store, alert) "
        "SELECT j.value, a.id FROM alerts a, json_each(a.stores) j",
        # The alert queue's sort orders (a store's timeline reads the ledger's events_store_at).
        f"CREATE INDEX IF NOT EXISTS dash_alerts_state_severity ON alerts(state, {SEVERITY_RANK})",
        f"CREATE INDEX IF NOT EXISTS dash_alerts_status_severity ON alerts(status, {SEVERITY_RANK})",
        "CREATE INDEX IF NOT EXISTS dash_alerts_status_last ON alerts(status, last_seen)",
        f"CREATE INDEX IF NOT EXISTS dash_alerts_severity ON alerts({SEVERITY_RANK})",
        "CREATE INDEX IF NOT EXISTS dash_alerts_state_last ON alerts(state, last_seen)",
        "CREATE INDEX IF NOT EXISTS dash_alerts_last ON alerts(last_seen)",
        "CREATE INDEX IF NOT EXISTS dash_alerts_first ON alerts(first_seen)",
        "CREATE INDEX IF NOT EXISTS dash_alerts_rule ON alerts(rule)",
    ]:
        db.execute(statement)


@migrations()
def m003_severity_filter(db: Database) -> None:
    # The queue filtered to one severity, newest first (its rank is constant there).
    db.execute("CREATE INDEX IF NOT EXISTS dash_alerts_severity_value ON alerts(severity)")


@migrations()
def m004_open_counts(db: Database) -> None:
    # Open alerts by severity and rule for the overview, from the index alone.
    db.execute("CREATE INDEX IF NOT EXISTS dash_alerts_open_counts ON alerts(state, severity, rule)")
