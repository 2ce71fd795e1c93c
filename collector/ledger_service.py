"""The glue between ingest, storage and the pure rules.

`ingest()` stores a batch of messages and, in the same transaction, re-evaluates every code the
batch touched (one set-based query for all their histories) and every insured person with a new
settlement, recording hits as alerts. `periodic()` runs what time alone can change: rule 6's
grace period (rechecks), collection rates per store and day (rule 10), store health (rule 11).
New settlements and camera evidence also run the camera rules 12-17 (`collector.camera_ledger`),
whose hits name the stills to ask the stores for (`Outcome.still_requests`, sent after the commit).
Hits are computed from whole histories, so redelivery or late events give the same alerts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from collector.camera_ledger import CAMERA_TYPES, judge_camera
from collector.ingest.decode import Decoded, Message, decode_messages
from collector.rules import (
    Catalogue, Hit, RuleSettings, Scope, evaluate_code, evaluate_collection, evaluate_person, evaluate_store_health,
    purchases_of, recheck_at,
)
from collector.rules.model import store_day_subject, store_subject
from collector.broker.topics import parse_topic
from collector.stills import StillArchive, StillRefused, StillRequestOut
from collector.store.base import AlertChanges, LedgerStore, NewEvent, QuarantineRecord, stamp
from drugtrace.events import AnyEvent, Heartbeat, Sale, SaleReturn, Settlement

_decoder = msgspec.json.Decoder(AnyEvent)
_CODE_TYPES = frozenset({"receipt", "purchase_return", "stock_change", "stocktake", "sale", "sale_return",
                         "scan_refused"})


@dataclass
class Outcome:
    """What one ingest call did (for metrics and tests)."""

    received: int = 0  # events in the messages
    new: list[NewEvent] = field(default_factory=list)
    quarantined: int = 0
    statuses: int = 0
    alerts: AlertChanges = AlertChanges()
    still_requests: list[StillRequestOut] = field(default_factory=list)  # to publish once committed

    @property
    def duplicates(self) -> int:
        return self.received - len(self.new)


def _add(a: AlertChanges, b: AlertChanges) -> AlertChanges:
    return AlertChanges(a.opened + b.opened, a.extended + b.extended, a.withdrawn + b.withdrawn)


class LedgerService:
    def __init__(self, store: LedgerStore, county: str, settings: RuleSettings,
                 catalogue: Catalogue | None = None, stills: StillArchive | None = None) -> None:
        self.store = store
        self.stills = stills
        self.county = county
        self.settings = settings
        self.catalogue = catalogue
        self._settled_rowid = 0  # settlements up to this row were looked at by rule 10
        self._pending_days: set[tuple[str, dt.date]] = set()  # (store, day)s whose rule 10 is still to run
        self._first_periodic = True

    # -- ingest ---------------------------------------------------------------------------------

    def ingest(self, messages: Sequence[Message], now: dt.datetime) -> Outcome:
        return self.ingest_decoded(decode_messages(messages, self.county), now)

    def ingest_decoded(self, decoded: Decoded, now: dt.datetime) -> Outcome:
        """Store already decoded messages and evaluate what they change, in one transaction."""
        outcome = Outcome(received=len(decoded.events), quarantined=len(decoded.quarantine),
                          statuses=len(decoded.statuses))
        with self.store.transaction():
            before = self.store.last_event_rowid()
            outcome.new = self.store.insert_events(decoded.events)
            self.store.quarantine(decoded.quarantine)
            self.store.record_status(decoded.statuses)
            self.store.record_heartbeats([e for e in outcome.new if e.type == "heartbeat"])
            outcome.alerts = self._evaluate_new(outcome.new, now, before)
            if any(row.type in CAMERA_TYPES for row in outcome.new):
                outcome.alerts = _add(outcome.alerts, self._evaluate_camera(outcome, now))
        return outcome

    def _evaluate_camera(self, outcome: Outcome, now: dt.datetime) -> AlertChanges:
        """Rules 12-17 around the new settlements and camera evidence; the stills their hits cite."""
        judged = judge_camera(self.store, outcome.new, self.settings)
        have = self.stills.has if self.stills is not None else (lambda store, sha: False)
        outcome.still_requests = judged.still_requests(have)
        return self.store.record_hits(judged.hits, now, withdraw=judged.withdraw)

    def accept_still(self, message: Message) -> bool:
        """Keep an uploaded still (checked, see collector.stills) or quarantine it with the reason."""
        if self.stills is None:
            return False
        try:
            self.stills.accept(message.topic, message.payload, self.county, self.store.names_still)
            return True
        except StillRefused as exc:
            parts = parse_topic(message.topic)
            with self.store.transaction():
                self.store.quarantine([QuarantineRecord(message.topic, parts.store if parts else None, str(exc),
                                                        message.payload, stamp(message.received_at))])
            return False

    def _evaluate_new(self, new: Sequence[NewEvent], now: dt.datetime, before: int) -> AlertChanges:
        """Evaluate every code the new events touch, once each: their stored history up to `before`
        (read with one query) plus the new events, decoded already."""
        fresh: dict[str, list[AnyEvent]] = defaultdict(list)
        settled = set()
        persons = set()
        for row in new:
            kind = row.type
            if kind in _CODE_TYPES:
                event = row.event if row.event is not None else _decoder.decode(row.body)
                if row.code is not None:
                    fresh[row.code].append(event)
                for code in row.contains:
                    fresh[code].append(event)
            elif kind == "settlement":
                settled.add((row.store, row.doc))
                if row.person is not None:
                    persons.add(row.person)
        codes = set(fresh)
        if settled:  # a settlement may change the verdict on the codes its sale document sold
            codes.update(self.store.doc_codes(settled, "sale"))
        changes = self.evaluate_codes(codes, now, fresh=fresh, before=before)
        if persons:
            changes = _add(changes, self.evaluate_persons(persons, now))
        return changes

    def evaluate_codes(self, codes: Iterable[str], now: dt.datetime, *,
                       fresh: Mapping[str, list[AnyEvent]] | None = None, before: int | None = None) -> AlertChanges:
        """Rules 1-8 on each code's whole history; open alerts no longer supported are withdrawn.

        With `fresh` (events not yet in the store's history up to position `before`), a code's history
        is what the store held up to `before` plus its fresh events.
        """
        stored = self.store.histories(codes, upto=before) if fresh is not None else self.store.histories(codes)
        if not stored:
            return AlertChanges()
        decode = _decoder.decode
        events: dict[str, list[AnyEvent]] = {}
        for code, bodies in stored.items():
            history = [decode(body) for body in bodies]
            if fresh is not None:
                history.extend(fresh.get(code, ()))
            events[code] = history
        settlements = self._settlements(events.values())
        hits: list[Hit] = []
        dues: list[tuple[str, dt.datetime | None]] = []
        settings, catalogue = self.settings, self.catalogue
        for code, history in events.items():
            hits.extend(evaluate_code(history, settlements, now, settings, catalogue, code=code))
            dues.append((code, recheck_at(history, now, settings, code=code)))
        self.store.set_rechecks(dues)
        return self.store.record_hits(hits, now, withdraw=[(Scope.CODE, code) for code in events])

    def _settlements(self, histories: Iterable[list[AnyEvent]]) -> dict[tuple[str, str], Settlement]:
        """The settlements of the sale documents in the histories that hold a sale return.

        Rule 7 (swipe-then-return) is the only rule that reads settlements, and only from a sale
        return on; tests/collector/test_settlement_reads.py holds the rules to that."""
        docs = {(e.store, e.doc) for history in histories if any(isinstance(e, SaleReturn) for e in history)
                for e in history if isinstance(e, Sale)}
        settlements: dict[tuple[str, str], Settlement] = {}
        for key, bodies in self.store.doc_events(docs, ["settlement"]).items():
            for body in bodies:
                settlement = _decoder.decode(body)
                if isinstance(settlement, Settlement):
                    settlements[key] = settlement
        return settlements

    def evaluate_persons(self, persons: Iterable[str], now: dt.datetime) -> AlertChanges:
        """Rule 9 on every settlement of each person."""
        purchases = []
        for bodies in self.store.person_settlements(persons).values():
            for body in bodies:
                settlement = _decoder.decode(body)
                if isinstance(settlement, Settlement):
                    purchases.extend(purchases_of(settlement))
        hits = evaluate_person(purchases, self.settings)
        return self.store.record_hits(hits, now)

    # -- periodic -------------------------------------------------------------------------------

    PERIODIC_ROWS = 200_000  # events scanned for new settlements per periodic() call
    PERIODIC_STORE_DAYS = 100  # collection rates computed per periodic() call

    @property
    def periodic_backlog(self) -> bool:
        """True when periodic() left work for its next call (it does a bounded share per call, so
        that it never holds the writer for long: call it again soon)."""
        return bool(self._pending_days) or self._settled_rowid < self.store.last_event_rowid()

    def periodic(self, now: dt.datetime) -> AlertChanges:
        """Rechecks that fell due, collection rates of (store, day)s with new settlements, store health.

        Bounded: at most PERIODIC_ROWS events are scanned for settlements and PERIODIC_STORE_DAYS
        collection rates computed per call; `periodic_backlog` says whether more is waiting."""
        changes = AlertChanges()
        with self.store.transaction():
            due = self.store.due_rechecks(now)
            if due:
                changes = _add(changes, self.evaluate_codes(due, now))
            changes = _add(changes, self._collection(now))
            changes = _add(changes, self._health(now))
        self._first_periodic = False
        return changes

    def _collection(self, now: dt.datetime) -> AlertChanges:
        rows, self._settled_rowid = self.store.settled_since(self._settled_rowid, span=self.PERIODIC_ROWS)
        tz = self.settings.tz
        self._pending_days.update((store, dt.datetime.fromisoformat(at).astimezone(tz).date()) for store, at in rows)
        days = sorted(self._pending_days)[:self.PERIODIC_STORE_DAYS]
        self._pending_days.difference_update(days)
        hits: list[Hit] = []
        for store, day in days:
            start = dt.datetime.combine(day, dt.time(0), tz)
            bodies = self.store.store_settlements(store, start, start + dt.timedelta(days=1))
            settlements = [s for s in (_decoder.decode(b) for b in bodies) if isinstance(s, Settlement)]
            hits.extend(evaluate_collection(store, day, settlements, self.settings))
        subjects = [(Scope.STORE_DAY, store_day_subject(store, day.isoformat())) for store, day in days]
        return self.store.record_hits(hits, now, withdraw=subjects)

    def _health(self, now: dt.datetime) -> AlertChanges:
        hits: list[Hit] = []
        stores = []
        for store, body, received_at in self.store.latest_heartbeats():
            heartbeat = _decoder.decode(body)
            if not isinstance(heartbeat, Heartbeat):
                continue
            received = dt.datetime.fromisoformat(received_at)
            stores.append(store)
            hits.extend(evaluate_store_health(store, heartbeat, received, now, self.settings))
        return self.store.record_hits(hits, now, withdraw=[(Scope.STORE, store_subject(s)) for s in stores])

