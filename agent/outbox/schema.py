"""The outbox's schema as sqlite-utils migrations, applied idempotently at every start.

Add a new migration at the end for every schema change; never edit an applied one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("drugtrace.agent.outbox")


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,        -- gapless per-store sequence, assigned at commit
            id TEXT NOT NULL UNIQUE,        -- the event id made at the store (UUIDv7)
            type TEXT NOT NULL,
            doc TEXT NOT NULL,
            body BLOB NOT NULL,             -- the sealed event, wire-encoded
            created_at REAL NOT NULL        -- store clock, seconds since the epoch
        )
        """
    )
    db.execute(
        """
        CREATE TABLE documents (
            doc_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            state BLOB NOT NULL,
            closed INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX documents_open ON documents (closed) WHERE closed = 0")
    db.execute(
        """
        CREATE TABLE code_states (
            key TEXT PRIMARY KEY,           -- code identity key
            state TEXT NOT NULL,            -- agent.ports.LocalCodeState value
            seq INTEGER NOT NULL            -- the event that set it
        )
        """
    )
    # One row: the next sequence number and the acknowledged watermark (everything <= acked_seq
    # was PUBACKed, in order). Kept apart from `events` so pruning never resets the sequence.
    db.execute(
        """
        CREATE TABLE cursor (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            next_seq INTEGER NOT NULL,
            acked_seq INTEGER NOT NULL,
            last_upload REAL
        )
        """
    )
    db.execute("INSERT INTO cursor (one, next_seq, acked_seq, last_upload) VALUES (1, 1, 0, NULL)")


@migrations()
def m002_durable_camera_queues(db: Database) -> None:
    # Settlements whose camera evidence is not committed yet: written in the settlement's own
    # transaction, removed in the evidence's, so a kill -9 inside the window loses no evidence.
    db.execute(
        """
        CREATE TABLE camera_pending (
            setl_id TEXT PRIMARY KEY,
            body BLOB NOT NULL              -- the sealed settlement event, wire-encoded
        )
        """
    )
    # Commands from the collector (cmd/{name}), recorded before the broker is acknowledged and
    # removed only after the answer's PUBACK; `key` makes a redelivered command one entry.
    db.execute(
        """
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            key TEXT NOT NULL UNIQUE,       -- name + sha256 of the payload
            payload BLOB NOT NULL,
            received_at REAL NOT NULL
        )
        """
    )
