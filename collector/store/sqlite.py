"""The SQLite ledger: WAL, a 64 MiB page cache, batched transactions, executemany on hot paths.

One writer at a time (BEGIN IMMEDIATE); readers (CLI, metrics) use their own connections. A
SQLiteLedger may be handed between threads but used by one thread at a time.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import get_args

from sqlite_utils import Database

from collector.rules.ledger import CodeEvent, HistoryRow
from collector.sequences import Received, StoreSequence, above_from_json, above_to_json, missing_count
from collector.rules.model import Hit, Scope
from collector.store.base import (
    AlertChanges, AlertRecord, AlertState, NewEvent, Pending, QuarantineRecord, StatusRecord, StoredEvent, StoreError,
    stamp,
)
from collector.store.schema import migrations

log = logging.getLogger(__name__)
# the event types that concern a code (the rules' CodeEvent), as an SQL list of their wire tags
_CODE_TYPES = "(" + ", ".join(f"'{kind.__struct_config__.tag}'" for kind in get_args(CodeEvent)) + ")"
_CHUNK = 500
_SYNC = {"OFF", "NORMAL", "FULL", "EXTRA"}


def _chunks(items: Sequence[object], size: int = _CHUNK) -> Iterator[Sequence[object]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SQLiteLedger:
    """The ledger in one SQLite file (see collector.store.base.LedgerStore for the contract)."""

    # A burst can grow the WAL by gigabytes (readers hold it while ingest goes on). The checkpointer
    # cuts a larger file back once the ledger is idle; never a commit (SQLite's journal_size_limit
    # truncates inside the first commit after the WAL starts over: 3 s for 3.7 GB, holding every writer).
    WAL_KEEP_BYTES = 64 << 20

    def __init__(self, path: Path, *, cache_mib: int = 64, synchronous: str = "NORMAL", mmap_mib: int = 0) -> None:
        if synchronous.upper() not in _SYNC:
            raise StoreError(f"Expected synchronous to be one of {sorted(_SYNC)}, got {synchronous!r}.")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
        self._turn = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self.conn.execute(f"PRAGMA cache_size=-{cache_mib * 1024}")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        # reads of pages outside the page cache become memory reads instead of a pread() each
        # (SQLite caps the map at its build's limit: 2 GiB for Debian's)
        self.conn.execute(f"PRAGMA mmap_size={mmap_mib << 20}")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        migrations.apply(Database(self.conn))

    def close(self) -> None:
        self.stop_checkpointer()
        self.conn.close()
        os.close(self._turn)

    # -- WAL checkpoints off the write path ---------------------------------------------------------

    _checkpointer: threading.Thread | None = None
    WAL_RESTART_FRAMES = 50_000  # pages (~200 MB): beyond this the checkpointer makes the WAL start over
    _checkpoints_stop: threading.Event | None = None

    def start_checkpointer(self, interval_s: float = 2.0) -> None:
        """Copy the WAL back into the database from a thread of its own every `interval_s`,
        instead of inside whichever commit pushes the WAL over 1,000 pages. When the WAL passes
        WAL_RESTART_FRAMES it waits for a gap between commits to copy the rest, so the WAL starts over;
        once no commit came for a whole interval, a WAL file over WAL_KEEP_BYTES is cut back to nothing.

        A checkpoint writes each changed page once however often the commits since the last one
        changed it, and its fsync no longer stalls ingest. Commits stay as durable as before:
        the WAL is the record (see docs/collector.md, "Throughput and durability")."""
        if self._checkpointer is not None:
            return
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        stop = self._checkpoints_stop = threading.Event()
        # never waits for a lock: a checkpoint that cannot run now runs at the next interval
        reader = sqlite3.connect(self.path, isolation_level=None, timeout=0.0, check_same_thread=False)
        wal = Path(f"{self.path}-wal")

        def run() -> None:
            last = -1
            try:
                while not stop.wait(interval_s):
                    try:
                        _busy, frames, copied = reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        idle, last = frames == last, frames  # no commit since the last checkpoint
                        if copied < frames:  # readers (the evaluator) still need older pages
                            continue
                        if idle and wal.exists() and wal.stat().st_size > self.WAL_KEEP_BYTES:
                            reader.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                        elif frames > self.WAL_RESTART_FRAMES:
                            # a busy writer never lets the WAL start over: try for a gap between
                            # commits. Only once the PASSIVE copy got everything: a RESTART copies
                            # what is left and syncs the database while holding the writer's lock
                            # (seconds after a burst); and never waiting for readers, which would
                            # hold every writer up meanwhile
                            reader.execute("PRAGMA wal_checkpoint(RESTART)")
                    except sqlite3.Error:  # busy or failing disk: the WAL keeps the data; try again later
                        log.exception("WAL checkpoint failed; will retry")
                reader.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                reader.close()

        self._checkpointer = threading.Thread(target=run, name="ledger-checkpoint", daemon=True)
        self._checkpointer.start()

    def leave_checkpoints(self) -> None:
        """Never checkpoint inside this connection's commits: another process's checkpointer
        (`start_checkpointer`) does it. Otherwise a commit that finds the WAL over 1,000 pages
        copies it back and syncs the file while holding the writer's turn (the evaluator's commits
        took 0.4 s each this way and held the ingest writer up as long; bench/ingest.py)."""
        self.conn.execute("PRAGMA wal_autocheckpoint=0")

    def stop_checkpointer(self) -> None:
        if self._checkpointer is None or self._checkpoints_stop is None:
            return
        self._checkpoints_stop.set()
        self._checkpointer.join(60)
        self._checkpointer = None
        self.conn.execute("PRAGMA wal_autocheckpoint=1000")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction. Ledgers on one file take turns through a kernel lock first
        (`{file}-writer.lock`): a waiting process is woken the moment the other commits, where
        SQLite's own busy handler polls with growing sleeps and can starve one writer (the
        ingest writer and the evaluator process commit back to back)."""
        fcntl.flock(self._turn, fcntl.LOCK_EX)
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        finally:
            fcntl.flock(self._turn, fcntl.LOCK_UN)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every read inside sees the ledger as of its start, and no writer waits on it."""
        self.conn.execute("BEGIN DEFERRED")
        try:
            self.conn.execute("SELECT 1 FROM evaluation").fetchone()  # a deferred transaction's snapshot starts here
            yield
        finally:
            self.conn.execute("COMMIT")

    # -- writes ---------------------------------------------------------------------------------

    def insert_events(self, events: Sequence[NewEvent]) -> list[NewEvent]:
        if not events:
            return []
        last = self.last_event_rowid()
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT INTO events (store, id, type, code, person, doc, seq, at, received_at, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, store) DO NOTHING",
            [e[:10] for e in events],
        )
        if self.conn.total_changes - before == len(events) and len({(e.id, e.store) for e in events}) == len(events):
            new = list(events)
        else:  # some were known already (redelivery): the new ones are exactly those above `last`
            fresh = set(self.conn.execute("SELECT id, store FROM events WHERE rowid > ?", (last,)).fetchall())
            seen: set[tuple[str, str]] = set()
            new = []
            for event in events:
                key = (event.id, event.store)
                if key in fresh and key not in seen:
                    seen.add(key)
                    new.append(event)
        cameras = sorted({(e.store,) for e in new if e.type == "camera_evidence"})
        if cameras:
            self.conn.executemany("INSERT OR IGNORE INTO camera_stores (store) VALUES (?)", cameras)
        cases = [e for e in new if e.contains]
        if cases:
            self.conn.executemany(
                "INSERT INTO case_codes (code, event) SELECT ?, rowid FROM events WHERE id = ? AND store = ?",
                [(code, e.id, e.store) for e in cases for code in e.contains])
        return new

    def quarantine(self, records: Sequence[QuarantineRecord]) -> None:
        self.conn.executemany(
            "INSERT INTO quarantine (topic, store, reason, raw, received_at, key) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) WHERE key IS NOT NULL DO UPDATE SET times = times + 1, "
            "last_received_at = excluded.received_at",
            [(r.topic, r.store, r.reason, r.raw, r.received_at, _quarantine_key(r)) for r in records],
        )

    def record_status(self, records: Sequence[StatusRecord]) -> None:
        self.conn.executemany(
            "INSERT INTO store_status (store, state, at, received_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (store) DO UPDATE SET state = excluded.state, at = excluded.at, "
            "received_at = excluded.received_at WHERE excluded.at >= store_status.at",
            [(r.store, r.state, r.at, r.received_at) for r in records],
        )

    def record_hits(self, hits: Sequence[Hit], now: dt.datetime,
                    *, withdraw: Iterable[tuple[Scope, str]] = ()) -> AlertChanges:
        when = stamp(now)
        opened = extended = withdrawn = 0
        supported = {(hit.rule.value, hit.subject) for hit in hits}
        pairs = list(set(withdraw))
        if pairs:
            wanted = set(pairs)
            stale = [alert_id for alert_id, rule, scope, subject in self.conn.execute(
                "SELECT a.id, a.rule, a.scope, a.subject FROM json_each(?) w CROSS JOIN alerts a INDEXED BY "
                "alerts_subject ON a.subject = w.value WHERE a.state = 'open'",
                (json.dumps(sorted({subject for _, subject in pairs})),))
                if (Scope(scope), subject) in wanted and (rule, subject) not in supported]
            self.conn.executemany("UPDATE alerts SET state = 'withdrawn', last_seen = ? WHERE id = ?",
                                  [(when, alert_id) for alert_id in stale])
            withdrawn = len(stale)
        for hit in hits:
            row = self.conn.execute(
                "SELECT id, severity, stores FROM alerts WHERE rule = ? AND subject = ? AND state = 'open'",
                (hit.rule.value, hit.subject)).fetchone()
            if row is None:
                alert_id = self.conn.execute(
                    "INSERT INTO alerts (rule, scope, subject, state, severity, stores, code, detail, first_seen, "
                    "last_seen) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?) RETURNING id",
                    (hit.rule.value, hit.rule.scope.value, hit.subject, hit.severity.value,
                     json.dumps(sorted(hit.stores)), hit.code, hit.detail, when, when),
                ).fetchone()[0]
                opened += 1
            else:
                alert_id, severity, stores_json = row
                stores = sorted(set(json.loads(stores_json)) | set(hit.stores))
                before = self.conn.total_changes
                self.conn.executemany("INSERT OR IGNORE INTO alert_evidence (alert, event) VALUES (?, ?)",
                                      [(alert_id, event) for event in hit.evidence])
                changed = self.conn.total_changes != before or stores != json.loads(stores_json)
                severity = max(severity, hit.severity.value, key=_severity_rank)
                if changed or severity != row[1]:
                    self.conn.execute(
                        "UPDATE alerts SET severity = ?, stores = ?, detail = ?, last_seen = ? WHERE id = ?",
                        (severity, json.dumps(stores), hit.detail, when, alert_id))
                    extended += 1
                continue
            self.conn.executemany("INSERT OR IGNORE INTO alert_evidence (alert, event) VALUES (?, ?)",
                                  [(alert_id, event) for event in hit.evidence])
        return AlertChanges(opened, extended, withdrawn)

    def set_rechecks(self, dues: Sequence[tuple[str, dt.datetime | None]]) -> None:
        """Remember when each code must be evaluated again (None: only a new event can change it)."""
        later = [(code, stamp(due)) for code, due in dues if due is not None]
        done = [code for code, due in dues if due is None]
        if later:
            self.conn.executemany("INSERT INTO rechecks (code, due) VALUES (?, ?) "
                                  "ON CONFLICT (code) DO UPDATE SET due = excluded.due", later)
        if done:  # one statement: most rounds end thousands of codes that had no recheck
            self.conn.execute("DELETE FROM rechecks WHERE code IN (SELECT value FROM json_each(?))",
                              (json.dumps(done),))

    def due_rechecks(self, now: dt.datetime, limit: int = 10_000) -> list[str]:
        return [c for (c,) in self.conn.execute("SELECT code FROM rechecks WHERE due <= ? LIMIT ?",
                                                (stamp(now), limit))]

    def set_evaluated_upto(self, rowid: int) -> None:
        self.conn.execute("UPDATE evaluation SET upto = ? WHERE id = 1", (rowid,))

    # -- reads ----------------------------------------------------------------------------------

    def evaluated_upto(self) -> int:
        return self.conn.execute("SELECT upto FROM evaluation WHERE id = 1").fetchone()[0]

    def pending(self, after: int, upto: int) -> Pending:
        """Set-based, so that the evaluator never builds a row per stored event: each query scans
        the position range of the events table (rowid order) once. Repeats are left to the Python
        sets (SQL's DISTINCT would build a temporary index of every row)."""
        span = (after, upto)
        codes: set[str] = set()
        persons: set[str] = set()
        for code, person in self.conn.execute(
                f"SELECT code, person FROM events WHERE rowid > ? AND rowid <= ? AND (type IN {_CODE_TYPES} "
                "AND code IS NOT NULL OR type = 'settlement' AND person IS NOT NULL)", span):
            if code is not None:
                codes.add(code)
            else:
                persons.add(person)
        codes.update(code for (code,) in self.conn.execute(
            "SELECT code FROM case_codes WHERE event > ? AND event <= ?", span))
        # a settlement may change the verdict on the codes its sale document sold; the sales stored
        # in this range are in `codes` already, so only earlier ones are read (their rowid is in
        # the index entry: the usual settlement, stored with its sales, reads no sale row)
        codes.update(code for (code,) in self.conn.execute(
            "SELECT s.code FROM events e CROSS JOIN events s INDEXED BY events_doc "
            "ON s.store = e.store AND s.doc = e.doc AND s.type = 'sale' AND s.rowid <= ?1 "
            "WHERE e.rowid > ?1 AND e.rowid <= ?2 AND e.type = 'settlement' AND s.code IS NOT NULL", span))
        camera = tuple(NewEvent(*row) for row in self.conn.execute(
            "SELECT store, id, type, code, person, doc, seq, at, received_at, "
            "CASE WHEN type = 'camera_evidence' THEN body ELSE x'' END FROM events "
            "WHERE rowid > ? AND rowid <= ? AND (type = 'camera_evidence' "
            "OR (type = 'settlement' AND store IN (SELECT store FROM camera_stores))) ORDER BY rowid", span))
        return Pending(frozenset(codes), frozenset(persons), camera)

    def last_event_rowid(self) -> int:
        return self.conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]

    def histories(self, codes: Iterable[str], upto: int | None = None,
                  *, bodies: bool = True) -> dict[str, list[HistoryRow]]:
        result: dict[str, list[HistoryRow]] = {code: [] for code in codes}
        if not result:
            return result
        bound = (1 << 62) if upto is None else upto
        row = HistoryRow._make
        body = "e.body" if bodies else "x''"
        # the wanted codes as one JSON parameter, the outer loop of a CROSS JOIN: one index probe
        # per code, never a scan, and no temporary rows to write and delete; in key order, so that
        # each probe finds the pages of the one before in the CPU's caches (the evaluator ~8 % faster)
        for found in self.conn.execute(
                f"SELECT e.code, e.type, e.store, e.id, e.at, e.seq, 1, {body} FROM json_each(?1) w "
                "CROSS JOIN events e INDEXED BY events_code ON e.code = w.value WHERE e.rowid <= ?2 UNION ALL "
                f"SELECT c.code, e.type, e.store, e.id, e.at, e.seq, 0, {body} FROM json_each(?1) w "
                "CROSS JOIN case_codes c ON c.code = w.value JOIN events e ON e.rowid = c.event WHERE c.event <= ?2",
                (json.dumps(sorted(result)), bound)):
            result[found[0]].append(row(found[1:]))
        return result

    def _with_docs(self, docs: Iterable[tuple[str, str]], query: str,
                   args: tuple[object, ...]) -> list[tuple]:  # type: ignore[type-arg]
        """Run `query` with the (store, doc) pairs as JSON `?1` ([[store, doc], ...]) and then `args`."""
        wanted = list(set(docs))
        if not wanted:
            return []
        return self.conn.execute(query, (json.dumps(wanted), *args)).fetchall()

    _DOCS = ("(SELECT json_extract(w.value, '$[0]') AS store, json_extract(w.value, '$[1]') AS doc "
             "FROM json_each(?1) w) w "
             "CROSS JOIN events e INDEXED BY events_doc ON e.store = w.store AND e.doc = w.doc")

    def doc_events(self, docs: Iterable[tuple[str, str]], types: Sequence[str]) -> dict[tuple[str, str], list[bytes]]:
        result: dict[tuple[str, str], list[bytes]] = defaultdict(list)
        marks = ",".join("?" * len(types))
        for store, doc, body in self._with_docs(
                docs, f"SELECT e.store, e.doc, e.body FROM {self._DOCS} WHERE e.type IN ({marks})", tuple(types)):
            result[(store, doc)].append(body)
        return result

    def person_settlements(self, persons: Iterable[str]) -> dict[str, list[bytes]]:
        result: dict[str, list[bytes]] = defaultdict(list)
        wanted = sorted(set(persons))
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for person, body in self.conn.execute(
                    f"SELECT person, body FROM events WHERE person IN ({marks})", tuple(chunk)):
                result[person].append(body)
        return result

    def names_still(self, store: str, sha256: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM events WHERE store = ? AND type = 'camera_evidence' "
            "AND json_extract(CAST(body AS TEXT), '$.still_image') = ? LIMIT 1", (store, sha256)).fetchone() is not None

    def store_settlements(self, store: str, start: dt.datetime, end: dt.datetime) -> list[bytes]:
        return [body for (body,) in self.conn.execute(
            "SELECT body FROM events WHERE type = 'settlement' AND store = ? AND at >= ? AND at < ?",
            (store, stamp(start), stamp(end)))]

    def settled_since(self, rowid: int, span: int | None = None) -> tuple[list[tuple[str, str]], int]:
        last = self.conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]
        if span is not None:
            last = min(last, rowid + span)
        rows = self.conn.execute("SELECT store, at FROM events WHERE rowid > ? AND rowid <= ? AND type = 'settlement'",
                                 (rowid, last)).fetchall()
        return rows, last

    def record_heartbeats(self, heartbeats: Sequence[NewEvent]) -> None:
        if not heartbeats:
            return
        self.conn.executemany(
            "INSERT INTO store_health (store, heartbeat, at, received_at) "
            "SELECT store, rowid, at, received_at FROM events WHERE id = ? AND store = ? "
            "ON CONFLICT (store) DO UPDATE SET heartbeat = excluded.heartbeat, at = excluded.at, "
            "received_at = excluded.received_at WHERE excluded.at > store_health.at",
            [(h.id, h.store) for h in heartbeats])

    def sequences(self, stores: Iterable[str] | None = None, *, with_holes: bool = False) -> dict[str, StoreSequence]:
        if stores is None:
            rows = self.conn.execute("SELECT store, contiguous, above, holes_since, requests, requested_at "
                                     "FROM store_sequences" + (" WHERE above != '[]'" if with_holes else "")).fetchall()
        else:
            rows = self.conn.execute(
                "SELECT s.store, contiguous, above, holes_since, requests, requested_at FROM json_each(?) w "
                "JOIN store_sequences s ON s.store = w.value", (json.dumps(sorted(set(stores))),)).fetchall()
        states = {store: StoreSequence(Received(contiguous, above_from_json(above)), _moment(since), requests,
                                       _moment(asked)) for store, contiguous, above, since, requests, asked in rows}
        return {store: state for store, state in states.items() if state.received.above} if with_holes else states

    def save_sequences(self, states: dict[str, StoreSequence]) -> None:
        self.conn.executemany(
            "INSERT INTO store_sequences (store, contiguous, above, holes_since, requests, requested_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (store) DO UPDATE SET contiguous = excluded.contiguous, "
            "above = excluded.above, holes_since = excluded.holes_since, requests = excluded.requests, "
            "requested_at = excluded.requested_at",
            [(store, s.received.contiguous, above_to_json(s.received.above), _stamp_or_none(s.holes_since),
              s.requests, _stamp_or_none(s.requested_at)) for store, s in sorted(states.items())])

    def extend_sequences(self, runs: dict[str, tuple[int, int]]) -> bool:
        before = self.conn.total_changes
        self.conn.executemany(
            "UPDATE store_sequences SET contiguous = ? WHERE store = ? AND contiguous = ? AND above = '[]'",
            [(last, store, first - 1) for store, (first, last) in runs.items()])
        return self.conn.total_changes - before == len(runs)

    def latest_heartbeats(self) -> list[tuple[str, bytes, str]]:
        return self.conn.execute(
            "SELECT h.store, e.body, h.received_at FROM store_health h JOIN events e ON e.rowid = h.heartbeat "
            "ORDER BY h.store").fetchall()

    def code_events(self, code: str) -> list[StoredEvent]:
        rows = self.conn.execute(
            "SELECT store, id, type, code, doc, seq, at, received_at, body FROM events WHERE code = ? "
            "UNION SELECT e.store, e.id, e.type, e.code, e.doc, e.seq, e.at, e.received_at, e.body "
            "FROM case_codes c JOIN events e ON e.rowid = c.event WHERE c.code = ? ORDER BY 7, 1, 6",
            (code, code)).fetchall()
        return [StoredEvent(*row) for row in rows]

    def _alert(self, row: tuple) -> AlertRecord:  # type: ignore[type-arg]
        evidence = tuple(e for (e,) in self.conn.execute(
            "SELECT event FROM alert_evidence WHERE alert = ? ORDER BY event", (row[0],)))
        return AlertRecord(row[0], row[1], row[2], row[3], AlertState(row[4]), row[5], tuple(json.loads(row[6])),
                           row[7], row[8], row[9], row[10], evidence)

    _ALERT_COLUMNS = "id, rule, scope, subject, state, severity, stores, code, detail, first_seen, last_seen"

    def alerts(self, state: AlertState | None = AlertState.OPEN, rule: str | None = None,
               limit: int = 100) -> list[AlertRecord]:
        where, args = [], []
        if state is not None:
            where.append("state = ?")
            args.append(state.value)
        if rule is not None:
            where.append("rule = ?")
            args.append(rule)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.conn.execute(f"SELECT {self._ALERT_COLUMNS} FROM alerts {clause} ORDER BY id DESC LIMIT ?",
                                 (*args, limit)).fetchall()
        return [self._alert(row) for row in rows]

    def alert(self, alert_id: int) -> AlertRecord | None:
        row = self.conn.execute(f"SELECT {self._ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else self._alert(row)

    def alerts_for_code(self, code: str) -> list[AlertRecord]:
        rows = self.conn.execute(f"SELECT {self._ALERT_COLUMNS} FROM alerts WHERE code = ? ORDER BY id",
                                 (code,)).fetchall()
        return [self._alert(row) for row in rows]

    def statuses(self) -> list[StatusRecord]:
        return [StatusRecord(*row) for row in self.conn.execute(
            "SELECT store, state, at, received_at FROM store_status ORDER BY store")]

    def quarantine_entries(self, limit: int = 100,
                           entry: int | None = None) -> list[tuple[int, QuarantineRecord, int, str | None]]:
        """(id, record, times received, last received) of quarantined payloads, newest first; only
        id `entry` when given."""
        where, args = ("WHERE id = ?", (entry, limit)) if entry is not None else ("", (limit,))
        return [(row[0], QuarantineRecord(*row[1:6]), row[6], row[7]) for row in self.conn.execute(
            "SELECT id, topic, store, reason, raw, received_at, times, last_received_at "
            f"FROM quarantine {where} ORDER BY id DESC LIMIT ?", args)]

    def counts(self) -> dict[str, int]:
        return ledger_counts(self.conn)


UNJUDGED_EVENTS = "SELECT (SELECT coalesce(max(rowid), 0) FROM events) - (SELECT upto FROM evaluation)"
"""Stored events the rules have not judged yet (one row, one column)."""


def ledger_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Events stored, events the rules have not judged yet, quarantined payloads, open alerts and
    alerts per rule, events missing from stores' sequence numbers (for /metrics and the CLI)."""
    result = {
        "events": conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0],
        "quarantined": conn.execute("SELECT count(*) FROM quarantine").fetchone()[0],
        "open_alerts": 0,
    }
    result["unjudged"] = conn.execute(UNJUDGED_EVENTS).fetchone()[0]
    for rule, count in conn.execute("SELECT rule, count(*) FROM alerts WHERE state = 'open' GROUP BY rule"):
        result[f"open_alerts:{rule}"] = count
        result["open_alerts"] += count
    for rule, count in conn.execute("SELECT rule, count(*) FROM alerts GROUP BY rule"):
        result[f"alerts:{rule}"] = count
    result["missing_events"] = 0
    for store, contiguous, above in conn.execute(
            "SELECT store, contiguous, above FROM store_sequences WHERE above != '[]' ORDER BY store"):
        missing = missing_count(Received(contiguous, above_from_json(above)))
        result[f"missing:{store}"] = missing
        result["missing_events"] += missing
    return result


_RANKS = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _severity_rank(value: str) -> int:
    return _RANKS.get(value, 0)


def _quarantine_key(record: QuarantineRecord) -> str:
    """Same topic, same reason, same bytes: the same quarantine entry."""
    digest = hashlib.sha256(record.raw)
    digest.update(b"\0" + record.topic.encode() + b"\0" + record.reason.encode())
    return digest.hexdigest()


def _stamp_or_none(moment: dt.datetime | None) -> str | None:
    return None if moment is None else stamp(moment)


def _moment(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)
