"""The glue between ingest, storage and the pure rules.

Storing and judging are separate steps over one ledger. `store_decoded()` commits a batch of
messages (events, quarantine, statuses); `evaluate_pending()` judges the events stored since the
ledger's evaluation position: every code they touch (one set-based query for all their histories),
every insured person with a new settlement, and the camera rules 12-17 (`collector.camera_ledger`)
around new camera evidence, recording hits as alerts and moving the position in one transaction.
The collector runs the two in different processes (collector.ingest.evaluator); `ingest()` does
both in one transaction. `periodic()` runs what time alone can change: rule 6's grace period
(rechecks), collection rates per store and day (rule 10), store health (rule 11).
Camera hits name the stills to ask the stores for (`still_requests`, sent after the commit).
Storing also counts each store's sequence numbers; `resend_requests()` names the holes due to be
asked for again (collector.sequences), recorded as asked before the subscriber publishes them.
Hits are computed from whole histories, so redelivery or late events give the same alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import msgspec

from collector.camera_ledger import CameraJudgement, judge_camera
from collector.errors import CollectorError
from collector.ingest.decode import Decoded, Message, decode_messages
from collector.rules import (
    Catalogue, Hit, RuleSettings, Scope, evaluate_collection, evaluate_person, evaluate_store_health,
    judge_code, purchases_of, unremarkable_rows, within_limits,
)
from collector.rules.model import store_day_subject, store_subject
from collector.sequences import Range, ResendPolicy, StoreSequence, advance, requested, resend_due
from collector.broker.topics import parse_topic
from collector.stills import StillArchive, StillRefused, StillRequestOut
from collector.store.base import AlertChanges, LedgerStore, NewEvent, QuarantineRecord, stamp
from drugtrace.events import AnyEvent, Heartbeat, Sale, SaleReturn, Settlement

_decoder = msgspec.json.Decoder(AnyEvent)


@dataclass
class Outcome:
    """What one ingest call did (for metrics and tests)."""

    received: int = 0  # events in the messages
    new: list[NewEvent] = field(default_factory=list)
    quarantined: int = 0
    statuses: int = 0
    alerts: AlertChanges = AlertChanges()
    still_requests: list[StillRequestOut] = field(default_factory=list)  # to publish once committed
    upto: int = 0  # the position of the newest stored event after this call

    @property
    def duplicates(self) -> int:
        return self.received - len(self.new)


@dataclass
class Evaluation:
    """What one `evaluate_pending` call judged: the events stored at positions (after, upto]."""

    after: int
    upto: int
    alerts: AlertChanges = AlertChanges()
    still_requests: list[StillRequestOut] = field(default_factory=list)  # to publish once committed
    more: bool = False  # events stored after `upto` wait for the next call

    @property
    def judged(self) -> int:
        return self.upto - self.after


@dataclass
class Judgement:
    """What the rules found, computed from reads alone; `_apply` writes it in one transaction."""

    parts: list[tuple[list[Hit], list[tuple[Scope, str]]]] = field(default_factory=list)  # (hits, withdraw)
    dues: list[tuple[str, dt.datetime | None]] = field(default_factory=list)  # rechecks of the codes judged
    camera: CameraJudgement | None = None


@dataclass(frozen=True)
class Round:
    """The events stored at positions (after, upto], judged and not yet written (`apply_rounds`)."""

    after: int
    upto: int
    judgement: Judgement
    more: bool = False  # events stored after `upto` wait for the next round

    @property
    def judged(self) -> int:
        return self.upto - self.after


def _add(a: AlertChanges, b: AlertChanges) -> AlertChanges:
    return AlertChanges(a.opened + b.opened, a.extended + b.extended, a.withdrawn + b.withdrawn)


class LedgerService:
    EVALUATE_ROWS = 20_000  # events judged per evaluate_pending() call at most

    def __init__(self, store: LedgerStore, county: str, settings: RuleSettings,
                 catalogue: Catalogue | None = None, stills: StillArchive | None = None) -> None:
        self.store = store
        self.stills = stills
        self.county = county
        self.settings = settings
        self.catalogue = catalogue
        self._settled_rowid = 0  # settlements up to this row were looked at by rule 10
        self._pending_days: set[tuple[str, dt.date]] = set()  # (store, day)s whose rule 10 is still to run

    # -- ingest ---------------------------------------------------------------------------------

    def ingest(self, messages: Sequence[Message], now: dt.datetime) -> Outcome:
        return self.ingest_decoded(decode_messages(messages, self.county), now)

    def ingest_decoded(self, decoded: Decoded, now: dt.datetime) -> Outcome:
        """Store already decoded messages and judge them (and any event still unjudged), in one transaction."""
        outcome = Outcome(received=len(decoded.events), quarantined=len(decoded.quarantine),
                          statuses=len(decoded.statuses))
        with self.store.transaction():
            self._store(decoded, outcome, now)
            after = self.store.evaluated_upto()
            if outcome.upto > after:
                judgement = self._judge(after, outcome.upto, now)
                outcome.alerts, outcome.still_requests = self._apply(judgement, now)
                self.store.set_evaluated_upto(outcome.upto)
        return outcome

    def store_decoded(self, decoded: Decoded, now: dt.datetime) -> Outcome:
        """Store already decoded messages in one transaction and judge nothing: `evaluate_pending`
        (the evaluator process, collector.ingest.evaluator) judges them from the ledger."""
        outcome = Outcome(received=len(decoded.events), quarantined=len(decoded.quarantine),
                          statuses=len(decoded.statuses))
        with self.store.transaction():
            self._store(decoded, outcome, now)
        return outcome

    def _store(self, decoded: Decoded, outcome: Outcome, now: dt.datetime) -> None:
        outcome.new = self.store.insert_events(decoded.events)
        self._advance_sequences(outcome.new, now)
        self.store.quarantine(decoded.quarantine)
        self.store.record_status(decoded.statuses)
        self.store.record_heartbeats([e for e in outcome.new if e.type == "heartbeat"])
        outcome.upto = self.store.last_event_rowid()

    def _advance_sequences(self, new: Sequence[NewEvent], now: dt.datetime) -> None:
        """Count the new events' sequence numbers per store (holes are asked for by `resend_requests`)."""
        if not new:
            return
        seqs: dict[str, list[int]] = {}
        for event in new:
            seqs.setdefault(event.store, []).append(event.seq)
        runs = {store: (min(numbers), max(numbers)) for store, numbers in seqs.items()}
        if all(last - first + 1 == len(set(seqs[store])) for store, (first, last) in runs.items()) \
                and self.store.extend_sequences(runs):
            return  # the usual batch: each store's next numbers, in one piece, and no hole before
        known = self.store.sequences(seqs)
        after = {store: advance(known.get(store, StoreSequence()), numbers, now) for store, numbers in seqs.items()}
        self.store.save_sequences({store: state for store, state in after.items() if state != known.get(store)})

    def resend_requests(self, now: dt.datetime, policy: ResendPolicy) -> list[tuple[str, Range]]:
        """The holes in stores' sequence numbers due to be asked for now, recorded as asked in the
        same transaction: publish them after it returns (collector.sequences). Looks first without
        taking the writers' turn: usually nothing is due."""
        if not any(resend_due(state, now, policy) for state in self.store.sequences(with_holes=True).values()):
            return []
        with self.store.transaction():
            states = self.store.sequences(with_holes=True)
            due = {store: ranges for store, state in states.items() if (ranges := resend_due(state, now, policy))}
            self.store.save_sequences({store: requested(states[store], now) for store in due})
        return [(store, span) for store in sorted(due) for span in due[store]]

    def evaluate_pending(self, now: dt.datetime, limit: int | None = None) -> Evaluation:
        """Judge the events stored since the last call (at most `limit`, default EVALUATE_ROWS) and
        write what the rules found: `judge_round` then `apply_rounds`.

        The rules read one snapshot of the ledger while ingest goes on committing; then the hits,
        rechecks and the new position are written in one short transaction. Events stored after the
        snapshot are judged by the next call from their codes' whole histories, so the alerts end the
        same as if everything had been judged at once. If the position moved meanwhile (another
        evaluator), nothing is written and the work is done again from there."""
        judged = self.judge_round(now, limit=limit)
        if not judged.judged:
            return Evaluation(judged.after, judged.upto, more=judged.more)
        return self.apply_rounds([judged], now)

    def judge_round(self, now: dt.datetime, after: int | None = None, limit: int | None = None) -> Round:
        """Judge, from one snapshot and without writing anything, the events stored after position
        `after` (default: the ledger's evaluation position), at most `limit` of them."""
        with self.store.snapshot():
            start = self.store.evaluated_upto() if after is None else after
            last = self.store.last_event_rowid()
            upto = max(start, min(last, start + (limit or self.EVALUATE_ROWS)))
            judgement = self._judge(start, upto, now) if upto > start else Judgement()
        return Round(start, upto, judgement, more=upto < last)

    def apply_rounds(self, rounds: Sequence[Round], now: dt.datetime) -> Evaluation:
        """Write consecutive judged rounds in one transaction, each later round over the earlier
        (its verdicts come from longer histories), and move the position to the last one's end.
        Nothing is written if the ledger's position is not where the first round starts (another
        evaluator moved it): the result then judged nothing, and the work is to be done again."""
        first, last = rounds[0], rounds[-1]
        if any(a.upto != b.after for a, b in zip(rounds, rounds[1:])):
            raise CollectorError("Expected consecutive rounds, got " + ", ".join(f"({r.after}, {r.upto}]" for r in rounds))
        changes = AlertChanges()
        stills: list[StillRequestOut] = []
        with self.store.transaction():
            if self.store.evaluated_upto() != first.after:
                return Evaluation(first.after, first.after, more=True)
            for judged in rounds:
                alerts, requests = self._apply(judged.judgement, now)
                changes = _add(changes, alerts)
                stills.extend(requests)
            self.store.set_evaluated_upto(last.upto)
        return Evaluation(first.after, last.upto, changes, stills, more=last.more)

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

    # -- judging (reads only) and applying (writes) ------------------------------------------------

    def _judge(self, after: int, upto: int, now: dt.datetime) -> Judgement:
        """Every rule the events stored at positions (after, upto] can change, on histories up to
        `upto`: each code they touch once, the insured persons of new settlements, and rules 12-17
        around new camera evidence and the new settlements of stores that have cameras."""
        pending = self.store.pending(after, upto)
        judgement = Judgement()
        self._judge_codes(pending.codes, now, judgement, upto)
        if pending.persons:
            judgement.parts.append((self._judge_persons(pending.persons), []))
        if pending.camera:  # without camera evidence a settlement cannot change rules 12-17
            judgement.camera = judge_camera(self.store, pending.camera, self.settings)
        return judgement

    def _apply(self, judgement: Judgement, now: dt.datetime) -> tuple[AlertChanges, list[StillRequestOut]]:
        self.store.set_rechecks(judgement.dues)
        changes = AlertChanges()
        for hits, withdraw in judgement.parts:
            changes = _add(changes, self.store.record_hits(hits, now, withdraw=withdraw))
        stills: list[StillRequestOut] = []
        camera = judgement.camera
        if camera is not None:
            have = self.stills.has if self.stills is not None else (lambda store, sha: False)
            stills = camera.still_requests(have)
            changes = _add(changes, self.store.record_hits(camera.hits, now, withdraw=camera.withdraw))
        return changes, stills

    def _judge_codes(self, codes: Iterable[str], now: dt.datetime, judgement: Judgement,
                     upto: int | None = None) -> None:
        # the usual histories (a receipt, or a receipt then its sale) are judged on their columns:
        # only the others are read again with their bodies (same snapshot), decoded and replayed
        stored = self.store.histories(codes, upto=upto, bodies=False)
        if not stored:
            return
        settings, catalogue = self.settings, self.catalogue
        decode = _decoder.decode
        others = self.store.histories([code for code, rows in stored.items() if not unremarkable_rows(rows, catalogue)],
                                      upto=upto)
        events = {code: [decode(row.body) for row in rows] for code, rows in others.items()}
        settlements = self._settlements(events.values())
        hits: list[Hit] = []
        for code in stored:
            history = events.get(code)
            if history is None:
                judgement.dues.append((code, None))
                continue
            verdict = judge_code(history, settlements, now, settings, catalogue, code=code)
            hits.extend(verdict.hits)
            judgement.dues.append((code, verdict.recheck))
        judgement.parts.append((hits, [(Scope.CODE, code) for code in stored]))

    def evaluate_codes(self, codes: Iterable[str], now: dt.datetime) -> AlertChanges:
        """Rules 1-8 on each code's whole history; open alerts no longer supported are withdrawn
        (call inside a transaction)."""
        judgement = Judgement()
        self._judge_codes(codes, now, judgement)
        return self._apply(judgement, now)[0]

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

    def _judge_persons(self, persons: Iterable[str]) -> list[Hit]:
        """Rule 9 on every settlement of each person."""
        purchases = []
        decode = _decoder.decode
        for bodies in self.store.person_settlements(persons).values():
            settlements = [s for s in map(decode, bodies) if isinstance(s, Settlement)]
            if not within_limits(settlements, self.settings):
                for settlement in settlements:
                    purchases.extend(purchases_of(settlement))
        return evaluate_person(purchases, self.settings)

    # -- periodic -------------------------------------------------------------------------------

    PERIODIC_ROWS = 50_000  # events scanned for new settlements per periodic() call
    PERIODIC_STORE_DAYS = 25  # collection rates computed per periodic() call (each call delays a round)

    @property
    def periodic_backlog(self) -> bool:
        """True when periodic() left work for its next call (it does a bounded share per call, so
        that it never holds the writer for long: call it again soon)."""
        return bool(self._pending_days) or self._settled_rowid < self.store.last_event_rowid()

    def periodic(self, now: dt.datetime) -> AlertChanges:
        """Rechecks that fell due, collection rates of (store, day)s with new settlements, store health.

        Bounded: at most PERIODIC_ROWS events are scanned for settlements and PERIODIC_STORE_DAYS
        collection rates computed per call; `periodic_backlog` says whether more is waiting. Like
        `evaluate_pending`, the rules read one snapshot and the hits are written in one short
        transaction; if another evaluator moved the position meanwhile, the rechecked codes'
        verdicts are not written (they stay due and are judged again next time)."""
        with self.store.snapshot():
            after = self.store.evaluated_upto()
            codes = Judgement()
            due = self.store.due_rechecks(now)
            if due:
                self._judge_codes(due, now, codes)
            others = Judgement(parts=[self._collection(), self._health(now)])
        with self.store.transaction():
            changes = self._apply(others, now)[0]
            if self.store.evaluated_upto() == after:
                changes = _add(changes, self._apply(codes, now)[0])
        return changes

    def _collection(self) -> tuple[list[Hit], list[tuple[Scope, str]]]:
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
        return hits, [(Scope.STORE_DAY, store_day_subject(store, day.isoformat())) for store, day in days]

    def _health(self, now: dt.datetime) -> tuple[list[Hit], list[tuple[Scope, str]]]:
        hits: list[Hit] = []
        stores = []
        for store, body, received_at in self.store.latest_heartbeats():
            heartbeat = _decoder.decode(body)
            if not isinstance(heartbeat, Heartbeat):
                continue
            received = dt.datetime.fromisoformat(received_at)
            stores.append(store)
            hits.extend(evaluate_store_health(store, heartbeat, received, now, self.settings))
        return hits, [(Scope.STORE, store_subject(s)) for s in stores]
