"""The ledger schema as sqlite-utils migrations, applied idempotently at start."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("drugtrace-collector")


@migrations()
def m001_ledger(db: Database) -> None:
    for statement in [
        # Every accepted event; (id, store) first by the time-ordered UUIDv7 id, so inserts append.
        """CREATE TABLE events (
            rowid INTEGER PRIMARY KEY, store TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
            code TEXT, person TEXT, doc TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL,
            received_at TEXT NOT NULL, body BLOB NOT NULL)""",
        "CREATE UNIQUE INDEX events_identity ON events(id, store)",
        "CREATE INDEX events_code ON events(code) WHERE code IS NOT NULL",
        "CREATE INDEX events_doc ON events(store, doc, type)",
        # Settlements by insured pseudonym (rule 9) and by store and time (rule 10).
        "CREATE INDEX events_person ON events(person) WHERE person IS NOT NULL",
        "CREATE INDEX events_settled ON events(store, at) WHERE type = 'settlement'",  # replaced in m003
        # Box codes a case receipt stands for (rare): part of each box code's history.
        "CREATE TABLE case_codes (code TEXT NOT NULL, event INTEGER NOT NULL REFERENCES events(rowid))",
        "CREATE INDEX case_codes_code ON case_codes(code)",
        # Payloads that failed validation, kept whole with the reason: never dropped.
        """CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY, topic TEXT NOT NULL, store TEXT, reason TEXT NOT NULL,
            raw BLOB NOT NULL, received_at TEXT NOT NULL)""",
        # Each store's latest heartbeat (rule 11).
        """CREATE TABLE store_health (
            store TEXT PRIMARY KEY, heartbeat INTEGER NOT NULL REFERENCES events(rowid), at TEXT NOT NULL,
            received_at TEXT NOT NULL)""",
        # The retained online/offline status of each store.
        """CREATE TABLE store_status (
            store TEXT PRIMARY KEY, state TEXT NOT NULL, at TEXT NOT NULL, received_at TEXT NOT NULL)""",
        """CREATE TABLE alerts (
            id INTEGER PRIMARY KEY, rule TEXT NOT NULL, scope TEXT NOT NULL, subject TEXT NOT NULL,
            state TEXT NOT NULL, severity TEXT NOT NULL, stores TEXT NOT NULL, code TEXT,
            detail TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL)""",
        # ONE open alert per (rule, subject), enforced by the database (thingsboard#5652).
        "CREATE UNIQUE INDEX alerts_one_open ON alerts(rule, subject) WHERE state = 'open'",
        "CREATE INDEX alerts_code ON alerts(code) WHERE code IS NOT NULL",
        "CREATE INDEX alerts_subject ON alerts(subject)",
        "CREATE INDEX alerts_state_rule ON alerts(state, rule)",
        # Codes whose hits may change with time alone (rule 6 grace period), and when.
        "CREATE TABLE rechecks (code TEXT PRIMARY KEY, due TEXT NOT NULL) WITHOUT ROWID",
        "CREATE INDEX rechecks_due ON rechecks(due)",
        """CREATE TABLE alert_evidence (
            alert INTEGER NOT NULL REFERENCES alerts(id), event TEXT NOT NULL,
            PRIMARY KEY (alert, event)) WITHOUT ROWID""",
    ]:
        db.execute(statement)


@migrations()
def m002_evaluation(db: Database) -> None:
    for statement in [
        # How far the rules have judged the events (by events.rowid): the evaluator resumes from here
        # after any crash. A ledger made before this migration was judged in its ingest transactions.
        "CREATE TABLE evaluation (id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL)",
        "INSERT INTO evaluation (id, upto) SELECT 1, coalesce(max(rowid), 0) FROM events",
        # The case receipts stored after a position (the evaluator reads the new events by rowid).
        "CREATE INDEX case_codes_event ON case_codes(event)",
        # Stores that ever sent camera evidence: only their settlements can change rules 12-17.
        "CREATE TABLE camera_stores (store TEXT PRIMARY KEY) WITHOUT ROWID",
        "INSERT INTO camera_stores SELECT DISTINCT store FROM events WHERE type = 'camera_evidence'",
    ]:
        db.execute(statement)


@migrations()
def m003_store_time_index(db: Database) -> None:
    for statement in [
        # One (store, at) index for rule 10's settlements of a store-day, the camera rules' hours and
        # the dashboard's store timeline: each index on events costs every insert 5-10 % (bench/ingest.py).
        "CREATE INDEX IF NOT EXISTS events_store_at ON events(store, at)",
        "DROP INDEX IF EXISTS events_settled",
        "DROP INDEX IF EXISTS dash_events_store_at",  # the dashboard's copy of the same index
    ]:
        db.execute(statement)


@migrations()
def m004_store_sequences(db: Database) -> None:
    for statement in [
        # Which sequence numbers of each store arrived (collector.ingest.sequences): every number up to
        # `contiguous`, plus the ranges in `above` (JSON); holes below the highest are asked for again.
        """CREATE TABLE store_sequences (
            store TEXT PRIMARY KEY, contiguous INTEGER NOT NULL, above TEXT NOT NULL DEFAULT '[]',
            holes_since TEXT, requests INTEGER NOT NULL DEFAULT 0, requested_at TEXT) WITHOUT ROWID""",
        # A ledger made before this migration: what it holds counts as complete up to each store's highest.
        "INSERT INTO store_sequences (store, contiguous) SELECT store, max(seq) FROM events GROUP BY store",
    ]:
        db.execute(statement)


@migrations()
def m005_quarantine_once(db: Database) -> None:
    for statement in [
        # The same payload refused for the same reason again (MQTT redelivery, a store resending it)
        # is one entry counted `times`, not another row. Entries made before this have no key.
        "ALTER TABLE quarantine ADD COLUMN key TEXT",
        "ALTER TABLE quarantine ADD COLUMN times INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE quarantine ADD COLUMN last_received_at TEXT",
        "CREATE UNIQUE INDEX quarantine_key ON quarantine(key) WHERE key IS NOT NULL",
    ]:
        db.execute(statement)
