"""`SqliteOutbox`: the agent's durable event store (implements agent.ports.EventStore).

- WAL with synchronous=FULL: a committed scan survives kill -9 and power loss (on honest storage).
- A document change, its events and the local code states are written in ONE transaction, with
  gapless per-store sequence numbers assigned inside it; events are sealed (content hash) then.
- Nothing is deleted before the broker acknowledged it: acknowledgements move a watermark
  (`acked_seq`, always a prefix of the sequence); `prune` removes acknowledged events by age.
- Size cap: `commit` raises OutboxFull when the unacknowledged events would exceed the capacity.
  It never drops: the counter refuses new scans until the uplink drains the backlog.
Hot paths use plain sqlite3 (executemany); sqlite-utils only runs the schema migrations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
from sqlite_utils import Database

from agent.errors import AgentError, OutboxFull
from agent.outbox.codestate import transitions
from agent.outbox.schema import migrations
from agent.ports import DocumentRecord, FillLevel, LocalCodeState
from drugtrace.events import AnyEvent, CameraEvidence, Heartbeat, Settlement
from drugtrace.wire import decode_event, encode_event, seal


class OutboxRejected(AgentError):
    """Events handed to the outbox break its rules (wrong store, an id already stored)."""


@dataclass(frozen=True)
class PendingEvent:
    """One event waiting for the broker's acknowledgement, as stored (wire bytes)."""

    seq: int
    id: str
    body: bytes


@dataclass(frozen=True)
class OutboxStats:
    depth: int
    capacity: int
    next_seq: int
    acked_seq: int
    last_upload: dt.datetime | None
    nearly_full: bool


@dataclass(frozen=True)
class InboxCommand:
    """A command from the collector, recorded on arrival and kept until its answer is acknowledged."""

    id: int
    name: str
    payload: bytes


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA cache_size=-8192")  # 8 MiB: a Pi has little to spare
    return conn


def apply_migrations(path: Path) -> None:
    """Create or upgrade the schema; idempotent."""
    db = Database(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        migrations.apply(db)
    finally:
        db.close()


def _timestamp(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.timezone.utc)


class SqliteOutbox:
    """The outbox of one store. Thread-safe: one connection, one lock (SQLite has one writer anyway)."""

    def __init__(self, path: Path, *, store: str, capacity: int, nearly_full_ratio: float = 0.8,
                 clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        apply_migrations(path)
        self.path = path
        self.store = store
        self.capacity = capacity
        self.nearly_full_ratio = nearly_full_ratio
        self._clock = clock
        self.track_evidence = False  # set when a camera gives settlement evidence (camera_pending)
        self._lock = threading.Lock()
        self._conn = _connect(path)
        self._next_seq, self._acked_seq = self._conn.execute("SELECT next_seq, acked_seq FROM cursor").fetchone()

    # -- EventStore --------------------------------------------------------------------------------

    def commit(self, document: DocumentRecord | None, events: Sequence[AnyEvent]) -> list[AnyEvent]:
        """Save the document state and append the events in one transaction; return them sealed."""
        for event in events:
            if event.store != self.store:
                raise OutboxRejected(
                    f"Expected events of store {self.store!r}, got one of {event.store!r} (id {event.id}).")
        with self._lock:
            depth = self._next_seq - 1 - self._acked_seq
            if events and depth + len(events) > self.capacity:
                raise OutboxFull(
                    f"Expected room for {len(events)} event(s) in the outbox, got {self.capacity - depth} of "
                    f"{self.capacity}: new scans are refused until the broker acknowledges the backlog. "
                    f"上传队列已满（{depth}条待上传），暂停扫码，请检查网络。")
            now = self._clock()
            seq = self._next_seq
            sealed: list[AnyEvent] = []
            rows = []
            codes: list[tuple[str, str, int]] = []
            for event in events:
                final = seal(msgspec.structs.replace(event, seq=seq))
                sealed.append(final)  # type: ignore[arg-type]
                rows.append((seq, final.id, type(final).__struct_config__.tag, final.doc, encode_event(final), now))
                codes.extend((key, state.value, seq) for key, state in transitions(final))  # type: ignore[arg-type]
                seq += 1
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO events (seq, id, type, doc, body, created_at) VALUES (?, ?, ?, ?, ?, ?)", rows)
                if document is not None:
                    conn.execute(
                        "INSERT INTO documents (doc_id, kind, state, closed, updated_at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (doc_id) DO UPDATE SET kind = excluded.kind, state = excluded.state, "
                        "closed = excluded.closed, updated_at = excluded.updated_at",
                        (document.doc_id, document.kind, document.state, int(document.closed), now))
                if codes:
                    conn.executemany(
                        "INSERT INTO code_states (key, state, seq) VALUES (?, ?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET state = excluded.state, seq = excluded.seq", codes)
                if self.track_evidence:
                    self._track_evidence(sealed, rows)
                conn.execute("UPDATE cursor SET next_seq = ?", (seq,))
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise OutboxRejected(f"Expected new event ids, got one already in the outbox: {exc}.") from None
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._next_seq = seq
            return sealed

    def _track_evidence(self, sealed: list[AnyEvent], rows: list[tuple]) -> None:  # type: ignore[type-arg]
        """Inside the commit's transaction: a settlement awaits evidence until its evidence is committed."""
        for event, row in zip(sealed, rows):
            if isinstance(event, Settlement):
                self._conn.execute("INSERT OR IGNORE INTO camera_pending (setl_id, body) VALUES (?, ?)",
                                   (event.setl_id, row[4]))
            elif isinstance(event, CameraEvidence):
                self._conn.execute("DELETE FROM camera_pending WHERE setl_id = ?", (event.setl_id,))

    def evidence_pending(self) -> list[Settlement]:
        """Committed settlements whose camera evidence is not committed yet (to requeue after a restart)."""
        with self._lock:
            rows = self._conn.execute("SELECT body FROM camera_pending ORDER BY rowid").fetchall()
        found = [decode_event(bytes(body)) for (body,) in rows]
        return [event for event in found if isinstance(event, Settlement)]

    # -- the inbox of collector commands -----------------------------------------------------------

    def record_command(self, name: str, payload: bytes) -> bool:
        """Keep a command until `command_done`; False when the same command is already kept."""
        key = f"{name}:{hashlib.sha256(payload).hexdigest()}"
        with self._lock:
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO inbox (name, key, payload, received_at) VALUES (?, ?, ?, ?)",
                (name, key, payload, self._clock()))
            return cursor.rowcount == 1

    def commands(self) -> list[InboxCommand]:
        """Kept commands, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT id, name, payload FROM inbox ORDER BY id").fetchall()
        return [InboxCommand(row_id, name, bytes(payload)) for row_id, name, payload in rows]

    def command_done(self, command_id: int) -> None:
        """Forget a command once its answer was acknowledged (or it needs none)."""
        with self._lock:
            self._conn.execute("DELETE FROM inbox WHERE id = ?", (command_id,))

    def open_documents(self) -> list[DocumentRecord]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT doc_id, kind, state, closed FROM documents WHERE closed = 0 ORDER BY updated_at").fetchall()
        return [DocumentRecord(doc_id, kind, bytes(state), bool(closed)) for doc_id, kind, state, closed in rows]

    def code_state(self, key: str) -> LocalCodeState | None:
        with self._lock:
            row = self._conn.execute("SELECT state FROM code_states WHERE key = ?", (key,)).fetchone()
        return None if row is None else LocalCodeState(row[0])

    def fill_level(self) -> FillLevel:
        with self._lock:
            depth = self._next_seq - 1 - self._acked_seq
        return FillLevel(depth=depth, capacity=self.capacity,
                         nearly_full=depth >= self.capacity * self.nearly_full_ratio, full=depth >= self.capacity)

    # -- for the uplink ----------------------------------------------------------------------------

    def pending(self, limit: int, after_seq: int | None = None) -> list[PendingEvent]:
        """Unacknowledged events in seq order, after `after_seq` (default: the acknowledged watermark)."""
        with self._lock:
            return self._events(max(self._acked_seq, after_seq or 0) + 1, self._next_seq - 1, limit)

    def sent_between(self, first_seq: int, last_seq: int, limit: int) -> list[PendingEvent]:
        """Acknowledged events still kept (not pruned) with first_seq <= seq <= last_seq, in seq order,
        at most `limit`: what the collector asks for again (drugtrace.resend)."""
        with self._lock:
            return self._events(first_seq, min(last_seq, self._acked_seq), limit)

    def _events(self, first_seq: int, last_seq: int, limit: int) -> list[PendingEvent]:
        rows = self._conn.execute("SELECT seq, id, body FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq LIMIT ?",
                                  (first_seq, last_seq, limit)).fetchall()
        return [PendingEvent(seq, event_id, bytes(body)) for seq, event_id, body in rows]

    def mark_sent(self, up_to_seq: int) -> None:
        """Record the broker's PUBACK for every event up to `up_to_seq` (the uplink acks in order)."""
        with self._lock:
            if up_to_seq >= self._next_seq:
                raise OutboxRejected(f"Expected an acknowledgement up to at most seq {self._next_seq - 1}, "
                                     f"got {up_to_seq}.")
            if up_to_seq <= self._acked_seq:
                return
            self._conn.execute("UPDATE cursor SET acked_seq = ?, last_upload = ?", (up_to_seq, self._clock()))
            self._acked_seq = up_to_seq

    def prune(self, older_than_s: float) -> int:
        """Delete acknowledged events committed more than `older_than_s` ago; return how many."""
        cutoff = self._clock() - older_than_s
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM events WHERE seq <= ? AND created_at <= ?", (self._acked_seq, cutoff))
            return cursor.rowcount

    def stats(self) -> OutboxStats:
        with self._lock:
            return _stats(self._conn, self.capacity, self.nearly_full_ratio)

    def last_heartbeat(self) -> Heartbeat | None:
        with self._lock:
            return _last_heartbeat(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _stats(conn: sqlite3.Connection, capacity: int, ratio: float) -> OutboxStats:
    next_seq, acked_seq, last_upload = conn.execute("SELECT next_seq, acked_seq, last_upload FROM cursor").fetchone()
    depth = next_seq - 1 - acked_seq
    return OutboxStats(depth=depth, capacity=capacity, next_seq=next_seq, acked_seq=acked_seq,
                       last_upload=_timestamp(last_upload), nearly_full=depth >= capacity * ratio)


def _last_heartbeat(conn: sqlite3.Connection) -> Heartbeat | None:
    row = conn.execute("SELECT body FROM events WHERE type = 'heartbeat' ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return None
    event = decode_event(bytes(row[0]))
    return event if isinstance(event, Heartbeat) else None


def read_status(path: Path, capacity: int, nearly_full_ratio: float) -> tuple[OutboxStats, Heartbeat | None]:
    """Read-only look at an outbox that a running agent may be writing (for `drugtrace-agent status`)."""
    if not path.exists():
        raise AgentError(f"Expected an outbox at {path}, found none (has the agent run with this configuration?).")
    conn = _connect(path, readonly=True)
    try:
        return _stats(conn, capacity, nearly_full_ratio), _last_heartbeat(conn)
    finally:
        conn.close()
