"""`CounterService`: drives the pure counter workflow and commits every change through the outbox.

Thread-safe with one lock: scanner threads (`handle_scan`) and web requests call it concurrently.
Each document change is committed together with its events in one `EventStore.commit` call, so
the document state and its events are durable together or not at all; open documents resume
from the outbox after a restart. The real psn_no is pseudonymised here and never stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from agent import counter
from agent.catalogue import Catalogue
from agent.counter import (
    Context, CounterError, DocKind, Document, DocStatus, Message, MessageCode, MissingLine, ScanOutcome, Step,
    Verdict, render,
)
from agent.errors import AgentError, ConfigurationError, OutboxFull
from agent.ports import DocumentRecord, EventStore, FillLevel
from drugtrace.codes import DEFAULT_OPTIONS, Classification, ScanOptions, classify, classify_bytes
from drugtrace.events import AnyEvent, Payment, StockChangeKind
from drugtrace.ids import uuid7
from drugtrace.pseudonym import MIN_KEY_BYTES, pseudonymise

log = logging.getLogger(__name__)
RECENT = 20
CLOSED_KEPT = 100
MAX_RAW = 4096


class ServiceError(AgentError):
    """An operation refused by the counter; `message` carries the machine code and both languages."""

    def __init__(self, message: Message, detail: Sequence[object] = ()) -> None:
        super().__init__(message.message_en)
        self.message = message
        self.detail = tuple(detail)

    @property
    def code(self) -> MessageCode:
        return self.message.code


@dataclass(frozen=True)
class CounterSettings:
    """What the counter needs from the agent's configuration."""

    store_id: str
    pseudonym_key: bytes
    scan_options: ScanOptions = DEFAULT_OPTIONS

    @classmethod
    def from_config(cls, config: object) -> CounterSettings:
        """From an agent.config.AgentConfig (store_id, pseudonym_key_bytes())."""
        return cls(store_id=config.store_id, pseudonym_key=config.pseudonym_key_bytes())  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RecordedOutcome:
    """A scan outcome as the counter page shows it."""

    number: int  # increases by one per scan: the page beeps once for each new number
    outcome: ScanOutcome
    source: str
    at: dt.datetime


@dataclass(frozen=True)
class CounterView:
    """The read model of the counter page."""

    active: Document | None
    missing: tuple[MissingLine, ...]
    last: RecordedOutcome | None
    recent: tuple[RecordedOutcome, ...]
    open_documents: tuple[tuple[str, DocKind], ...]
    outbox: FillLevel
    outbox_warning: Message | None = None
    resume_problems: tuple[str, ...] = field(default=())


class CounterService:
    """The counter of one store: open documents, scans, settlement; every change durable before it counts."""

    def __init__(self, store: EventStore, catalogue: Catalogue, settings: CounterSettings,
                 clock: Callable[[], dt.datetime], new_id: Callable[[], str] = uuid7) -> None:
        if len(settings.pseudonym_key) < MIN_KEY_BYTES:
            raise ConfigurationError(f"Expected a pseudonym key of at least {MIN_KEY_BYTES} bytes, "
                                     f"got {len(settings.pseudonym_key)}.")
        self._store = store
        self.catalogue = catalogue
        self._settings = settings
        self._clock = clock
        self._new_id = new_id
        self._lock = threading.RLock()
        self._open: dict[str, Document] = {}
        self._closed: OrderedDict[str, Document] = OrderedDict()
        self._active: str | None = None
        self._recent: deque[RecordedOutcome] = deque(maxlen=RECENT)
        self._resume_problems: list[str] = []
        self._scans = 0
        self._resume()

    # -- life cycle --------------------------------------------------------------------------------

    def _resume(self) -> None:
        for record in self._store.open_documents():
            try:
                document = counter.decode_state(record.state)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                # kept in the outbox untouched; shown on the counter page, never dropped
                self._resume_problems.append(f"document {record.doc_id}: unreadable state ({exc})")
                log.error("cannot resume document %s: %s", record.doc_id, exc)
                continue
            self._open[document.doc_id] = document
        if self._open:
            self._active = max(self._open.values(), key=lambda d: d.opened_at).doc_id

    def _context(self) -> Context:
        return Context(store=self._settings.store_id, now=self._clock(), new_id=self._new_id,
                       code_state=self._store.code_state)

    def _commit(self, document: Document | None, events: Sequence[AnyEvent]) -> None:
        """Durably save the document with its events, then (only then) make it the current state."""
        record = None
        if document is not None:
            record = DocumentRecord(doc_id=document.doc_id, kind=document.kind.value,
                                    state=counter.encode_state(document), closed=document.status is not DocStatus.OPEN)
        try:
            self._store.commit(record, events)
        except OutboxFull:
            raise ServiceError(render(MessageCode.OUTBOX_FULL)) from None
        if document is None:
            return
        if document.status is DocStatus.OPEN:
            self._open[document.doc_id] = document
            return
        self._open.pop(document.doc_id, None)
        self._closed[document.doc_id] = document
        while len(self._closed) > CLOSED_KEPT:
            self._closed.popitem(last=False)
        if self._active == document.doc_id:
            self._active = max(self._open.values(), key=lambda d: d.opened_at).doc_id if self._open else None

    def _open_doc(self, doc_id: str) -> Document:
        document = self._open.get(doc_id)
        if document is None:
            closed = self._closed.get(doc_id)
            if closed is not None:
                self._apply(closed.require_open)
            raise ServiceError(render(MessageCode.UNKNOWN_DOCUMENT, doc=doc_id[:64]))
        return document

    def _apply(self, operation: Callable[[], object]) -> object:
        try:
            return operation()
        except CounterError as exc:
            raise ServiceError(exc.message, exc.detail) from None

    # -- scans -------------------------------------------------------------------------------------

    def handle_scan(self, raw: bytes, source: str) -> ScanOutcome:
        """A device scan: classified and put on the counter's active document. Never raises."""
        result = classify_bytes(raw[:MAX_RAW], self._settings.scan_options)
        with self._lock:
            return self._scan(self._active, result, None, source)

    def scan_text(self, doc_id: str, raw: str, source: str = "pos", line: int | None = None) -> ScanOutcome:
        """A scan sent by the POS for a given document (and optionally a given line)."""
        result = classify(raw[:MAX_RAW], self._settings.scan_options)
        with self._lock:
            self._open_doc(doc_id)
            if line is not None:
                self._apply(lambda: self._open[doc_id].line(line))
            return self._scan(doc_id, result, line, source)

    def _scan(self, doc_id: str | None, result: Classification, line: int | None, source: str) -> ScanOutcome:
        ctx = self._context()
        document = self._open.get(doc_id) if doc_id else None
        if document is None:
            step = counter.scan_without_document(result, ctx)
        else:
            step = counter.scan(document, result, ctx, line)
        outcome = step.outcome
        assert outcome is not None
        if step.events:
            try:
                self._commit(step.document if outcome.accepted else None, step.events)
            except ServiceError as exc:
                outcome = ScanOutcome(Verdict.REFUSED, exc.message, False, result.raw, doc_id, outcome.line,
                                      outcome.key)
            except Exception:  # a scanner thread must survive a storage failure; the scan is not accepted
                log.exception("could not commit a scan")
                outcome = ScanOutcome(Verdict.REFUSED, render(MessageCode.INTERNAL), False, result.raw, doc_id,
                                      outcome.line, outcome.key)
        self._scans += 1
        self._recent.appendleft(RecordedOutcome(self._scans, outcome, source, ctx.now))
        return outcome

    # -- documents ---------------------------------------------------------------------------------

    def open_document(self, kind: DocKind, *, supplier: str = "", invoice: str = "",
                      change: StockChangeKind = StockChangeKind.OTHER, reason: str = "", original_doc: str = "",
                      original_setl_id: str | None = None, activate: bool = True) -> Document:
        """Open a document; it becomes the one device scans go to unless activate is False."""
        with self._lock:
            ctx = self._context()
            document = self._apply(lambda: counter.open_document(
                kind, ctx.new_id(), ctx, supplier=supplier, invoice=invoice, change=change, reason=reason,
                original_doc=original_doc, original_setl_id=original_setl_id))
            assert isinstance(document, Document)
            self._commit(document, ())
            if activate:
                self._active = document.doc_id
            return document

    def add_line(self, doc_id: str, product_id: str, *, quantity: int, price_fen: int = 0, trdn_flag: int = 0,
                 rx: bool = False, batch: str | None = None, expiry: dt.date | None = None) -> Document:
        with self._lock:
            document = self._open_doc(doc_id)
            product = self.catalogue.get(product_id)
            if product is None:
                raise ServiceError(render(MessageCode.UNKNOWN_PRODUCT, product=product_id[:64]))
            updated = self._apply(lambda: counter.add_line(document, product, quantity=quantity, price_fen=price_fen,
                                                           trdn_flag=trdn_flag, rx=rx, batch=batch, expiry=expiry))
            assert isinstance(updated, Document)
            self._commit(updated, ())
            return updated

    def may_settle(self, doc_id: str) -> tuple[Message, tuple[MissingLine, ...]]:
        with self._lock:
            document = self._open_doc(doc_id)
            self._apply(lambda: document.require_kind(DocKind.SALE))
            return counter.may_settle(document)

    def override(self, doc_id: str, line: int, reason: str, operator: str) -> Document:
        with self._lock:
            document = self._open_doc(doc_id)
            return self._step(lambda ctx: counter.override(document, line, reason, operator, ctx))

    def settle(self, doc_id: str, *, setl_id: str, payment: Payment, total_fen: int, fund_fen: int = 0,
               psn_no: str | None = None) -> Document:
        """Settle a sale; the insured person's psn_no is turned into the county pseudonym right here."""
        person = None
        if psn_no is not None and psn_no.strip():
            if len(psn_no) > 64:
                raise ServiceError(render(MessageCode.BAD_REQUEST, detail="psn_no longer than 64 characters"))
            person = pseudonymise(psn_no, self._settings.pseudonym_key)
        with self._lock:
            document = self._open_doc(doc_id)
            return self._step(lambda ctx: counter.settle(document, ctx, setl_id=setl_id, payment=payment,
                                                         total_fen=total_fen, fund_fen=fund_fen, person=person))

    def finish(self, doc_id: str) -> Document:
        with self._lock:
            document = self._open_doc(doc_id)
            return self._step(lambda ctx: Step(counter.finish(document)))

    def cancel(self, doc_id: str) -> Document:
        with self._lock:
            document = self._open_doc(doc_id)
            return self._step(lambda ctx: counter.cancel(document, ctx))

    def _step(self, operation: Callable[[Context], Step]) -> Document:
        ctx = self._context()
        step = self._apply(lambda: operation(ctx))
        assert isinstance(step, Step) and step.document is not None
        self._commit(step.document, step.events)
        return step.document

    def activate(self, doc_id: str) -> Document:
        """Make an open document the one device scans go to."""
        with self._lock:
            document = self._open_doc(doc_id)
            self._active = doc_id
            return document

    def document(self, doc_id: str) -> Document:
        """An open or recently closed document."""
        with self._lock:
            document = self._open.get(doc_id) or self._closed.get(doc_id)
            if document is None:
                raise ServiceError(render(MessageCode.UNKNOWN_DOCUMENT, doc=doc_id[:64]))
            return document

    # -- read model --------------------------------------------------------------------------------

    def view(self) -> CounterView:
        with self._lock:
            active = self._open.get(self._active) if self._active else None
            level = self._store.fill_level()
            warning = None
            if level.full:
                warning = render(MessageCode.OUTBOX_FULL)
            elif level.nearly_full:
                warning = render(MessageCode.OUTBOX_NEARLY_FULL, depth=level.depth, capacity=level.capacity)
            return CounterView(
                active=active,
                missing=counter.missing_lines(active) if active else (),
                last=self._recent[0] if self._recent else None,
                recent=tuple(self._recent),
                open_documents=tuple((d.doc_id, d.kind) for d in sorted(self._open.values(),
                                                                         key=lambda d: d.opened_at)),
                outbox=level, outbox_warning=warning, resume_problems=tuple(self._resume_problems),
            )
