"""The storage interface the ingest and ledger code program against (SQLite now, PostgreSQL later).

Writes happen inside `transaction()`; everything written there commits together, so alerts
commit atomically with the events that raised them.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import msgspec

from collector.errors import CollectorError
from collector.rules.ledger import HistoryRow
from collector.rules.model import Hit, Scope
from collector.sequences import StoreSequence


_UTC = dt.timezone.utc
_rfc3339 = msgspec.json.Encoder().encode


def stamp(moment: dt.datetime) -> str:
    """A timestamp that sorts as text: UTC with microseconds (`2026-11-23T01:00:00.000000+00:00`).

    The same text as `isoformat(timespec="microseconds")` of the UTC time, in a third of its
    time (the decoder stamps every event; isoformat of a non-UTC time took 4 µs here): msgspec
    writes `...T01:00:00.000001Z`, leaving out the fraction when it is zero."""
    utc = moment.astimezone(_UTC)
    text = _rfc3339(utc)[1:-2].decode()  # without the quotes and the Z
    return f"{text}+00:00" if utc.microsecond else f"{text}.000000+00:00"


class StoreError(CollectorError):
    """The ledger database refused an operation."""


class AlertState(enum.Enum):
    OPEN = "open"
    WITHDRAWN = "withdrawn"  # a later (late-arriving) event showed the hit was not one
    CLOSED = "closed"  # closed by an auditor


class NewEvent(NamedTuple):
    """An accepted event ready to store: its columns (in `events` column order, so `row[:10]` is
    the row to insert) plus the JSON body as received, the box codes a case stands for, and the
    decoded event when the caller has it (the rules then need not decode the body again)."""

    store: str
    id: str
    type: str
    code: str | None
    person: str | None  # a settlement's insured pseudonym
    doc: str
    seq: int
    at: str  # store clock, UTC, `stamp()` format
    received_at: str  # collector clock, UTC, `stamp()` format
    body: bytes
    contains: tuple[str, ...] = ()  # box codes a case receipt stands for
    event: Any = None  # the decoded drugtrace.events struct, if known


@dataclass(frozen=True)
class Pending:
    """What the events stored at positions (after, upto] give the rules to judge (`LedgerStore.pending`)."""

    codes: frozenset[str]  # codes of code events, boxes of case receipts, codes the settled sale documents sold
    persons: frozenset[str]  # insured pseudonyms of the settlements
    camera: tuple[NewEvent, ...]  # camera evidence, and settlements of stores that ever sent some (rules 12-17)


@dataclass(frozen=True)
class StoredEvent:
    store: str
    id: str
    type: str
    code: str | None
    doc: str
    seq: int
    at: str
    received_at: str
    body: bytes


@dataclass(frozen=True)
class QuarantineRecord:
    topic: str
    store: str | None  # the store the topic names, if any
    reason: str
    raw: bytes
    received_at: str


@dataclass(frozen=True)
class StatusRecord:
    store: str
    state: str
    at: str
    received_at: str


@dataclass(frozen=True)
class AlertRecord:
    id: int
    rule: str
    scope: str
    subject: str
    state: AlertState
    severity: str
    stores: tuple[str, ...]
    code: str | None
    detail: str
    first_seen: str
    last_seen: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class AlertChanges:
    """What one call to `record_hits` changed (for metrics and tests)."""

    opened: int = 0
    extended: int = 0
    withdrawn: int = 0


class LedgerStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction (exclusive for its length); commits on success, rolls back on error."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """A read transaction: its reads see the ledger as of its start; writers do not wait for it."""
        ...

    # -- writes (inside transaction()) --
    def insert_events(self, events: Sequence[NewEvent]) -> list[NewEvent]:
        """Store events not yet known by (store, id); return only those that were new."""
        ...

    def quarantine(self, records: Sequence[QuarantineRecord]) -> None: ...

    def record_status(self, records: Sequence[StatusRecord]) -> None: ...

    def record_hits(self, hits: Sequence[Hit], now: dt.datetime, *, withdraw: Iterable[tuple[Scope, str]] = ()) -> AlertChanges:
        """Open or extend one alert per (rule, subject); open alerts of the `withdraw` (scope, subject)
        pairs that no hit supports any more become WITHDRAWN."""
        ...

    def set_rechecks(self, dues: Sequence[tuple[str, dt.datetime | None]]) -> None:
        """When each code must be evaluated again with no new event (None: never)."""
        ...

    def due_rechecks(self, now: dt.datetime, limit: int = 10_000) -> list[str]: ...

    def set_evaluated_upto(self, rowid: int) -> None:
        """The rules have judged every event stored up to position `rowid`."""
        ...

    # -- reads --
    def evaluated_upto(self) -> int:
        """The position up to which the rules have judged the stored events."""
        ...

    def pending(self, after: int, upto: int) -> Pending:
        """What the events stored at positions (after, upto] give the rules to judge; the rows in
        `camera` carry their body only for camera evidence."""
        ...

    def last_event_rowid(self) -> int:
        """The position of the newest stored event (0 when none): `histories(upto=...)` takes it."""
        ...

    def histories(self, codes: Iterable[str], upto: int | None = None,
                  *, bodies: bool = True) -> dict[str, list[HistoryRow]]:
        """Every event of each code (including case receipts that list it) as its columns and
        body, in storage order; with `upto`, only events stored at or before that position (see
        `last_event_rowid`). `bodies=False` leaves every body empty (b"")."""
        ...

    def doc_events(self, docs: Iterable[tuple[str, str]], types: Sequence[str]) -> dict[tuple[str, str], list[bytes]]:
        """Event bodies of the given types in each (store, doc)."""
        ...

    def person_settlements(self, persons: Iterable[str]) -> dict[str, list[bytes]]:
        """Every settlement body of each insured pseudonym."""
        ...

    def store_settlements(self, store: str, start: dt.datetime, end: dt.datetime) -> list[bytes]:
        """Settlement bodies of one store with store time in [start, end)."""
        ...

    def settled_since(self, rowid: int, span: int | None = None) -> tuple[list[tuple[str, str]], int]:
        """(store, at) of settlements stored after event row `rowid` (and at most `span` rows
        after it), and the last row id looked at."""
        ...

    def record_heartbeats(self, heartbeats: Sequence[NewEvent]) -> None:
        """Keep each store's latest heartbeat (by store time)."""
        ...

    def sequences(self, stores: Iterable[str] | None = None, *, with_holes: bool = False) -> dict[str, StoreSequence]:
        """The sequence state of `stores` (default: every store) that have one; `with_holes`: only
        those missing numbers."""
        ...

    def save_sequences(self, states: dict[str, StoreSequence]) -> None:
        """Keep each store's sequence state (collector.sequences)."""
        ...

    def extend_sequences(self, runs: dict[str, tuple[int, int]]) -> bool:
        """For each store whose numbers so far are exactly 1..first-1, make them 1..last. True when
        that held for every store given (else the caller merges the others: repeating is harmless)."""
        ...

    def names_still(self, store: str, sha256: str) -> bool:
        """True when a camera-evidence event of `store` names the still `sha256` (issue 7 uploads)."""
        ...

    def latest_heartbeats(self) -> list[tuple[str, bytes, str]]:
        """(store, heartbeat body, received_at) of every store that ever sent one."""
        ...

    def code_events(self, code: str) -> list[StoredEvent]: ...

    def alerts(self, state: AlertState | None = AlertState.OPEN, rule: str | None = None,
               limit: int = 100) -> list[AlertRecord]: ...

    def alert(self, alert_id: int) -> AlertRecord | None: ...

    def statuses(self) -> list[StatusRecord]: ...

    def counts(self) -> dict[str, int]:
        """events, quarantined, open_alerts, and open alerts per rule as `open_alerts:{rule}`."""
        ...

    def close(self) -> None: ...
