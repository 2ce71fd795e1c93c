"""Put one scan on a document: the local checks of DOMAIN §3, in order, as a pure function.

Order: a traceability code at all (commodity barcodes and unknown formats are refused and reported)
→ already on this document (an input mistake: a warning, no event) → which line (串换 when the
product key matches no billed product) → room on the line → GS1 expiry (warning at receipt, block
at sale) → what this store already did with the code. Every refusal but the same-code-twice warning
produces a ScanRefused event, so it is counted and reported.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from agent.counter.emit import Context, code_event, refused
from agent.counter.messages import Message, MessageCode, render
from agent.counter.model import DocKind, Document, Line, ScannedCode
from agent.ports import LocalCodeState
from drugtrace.codes import Classification, Problem
from drugtrace.events import AnyEvent, CodeKind


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    WARNING = "warning"  # accepted with a warning, or a harmless repeat that changed nothing
    REFUSED = "refused"


@dataclass(frozen=True)
class ScanOutcome:
    """What happened to one scan, for the counter page and the POS."""

    verdict: Verdict
    message: Message
    accepted: bool
    raw: str
    doc_id: str | None = None
    line: int | None = None
    key: str | None = None

    @property
    def code(self) -> MessageCode:
        return self.message.code


@dataclass(frozen=True)
class Step:
    """An operation's result: the new document, the events to commit with it, and what to tell people."""

    document: Document | None
    events: tuple[AnyEvent, ...] = ()
    outcome: ScanOutcome | None = field(default=None)


# What this store's earlier use of a code forbids, per document kind.
_FORBIDDEN: dict[DocKind, dict[LocalCodeState, MessageCode]] = {
    DocKind.SALE: {LocalCodeState.SOLD: MessageCode.ALREADY_SOLD_HERE,
                   LocalCodeState.PURCHASE_RETURNED: MessageCode.NOT_IN_STOCK,
                   LocalCodeState.DESTROYED: MessageCode.NOT_IN_STOCK},
    # A receipt of a code sold here is accepted with a warning (see _state_warning): the collector
    # judges it — a late-scanned receipt within its grace period, or 回流 (rule 4) after it.
    DocKind.RECEIPT: {LocalCodeState.IN_STOCK: MessageCode.ALREADY_IN_STOCK,
                      LocalCodeState.RETURNED: MessageCode.ALREADY_IN_STOCK,
                      LocalCodeState.DESTROYED: MessageCode.NOT_IN_STOCK},
    DocKind.PURCHASE_RETURN: {LocalCodeState.SOLD: MessageCode.ALREADY_SOLD_HERE,
                              LocalCodeState.OPENED: MessageCode.ALREADY_SOLD_HERE,
                              LocalCodeState.PURCHASE_RETURNED: MessageCode.NOT_IN_STOCK,
                              LocalCodeState.DESTROYED: MessageCode.NOT_IN_STOCK},
    DocKind.STOCK_CHANGE: {LocalCodeState.SOLD: MessageCode.ALREADY_SOLD_HERE,
                           LocalCodeState.PURCHASE_RETURNED: MessageCode.NOT_IN_STOCK,
                           LocalCodeState.DESTROYED: MessageCode.NOT_IN_STOCK},
    DocKind.STOCKTAKE: {LocalCodeState.SOLD: MessageCode.ALREADY_SOLD_HERE,
                        LocalCodeState.PURCHASE_RETURNED: MessageCode.NOT_IN_STOCK,
                        LocalCodeState.DESTROYED: MessageCode.NOT_IN_STOCK},
    DocKind.SALE_RETURN: {},  # only codes sold here may come back: checked below
}
_ACTIONS = {DocKind.SALE: ("销售", "sold"), DocKind.RECEIPT: ("入库", "received"),
            DocKind.PURCHASE_RETURN: ("退给供应商", "returned to the supplier"),
            DocKind.STOCK_CHANGE: ("报损", "written off"), DocKind.STOCKTAKE: ("盘点入库", "counted in stock"),
            DocKind.SALE_RETURN: ("退货", "returned")}


def _refuse(ctx: Context, doc_id: str, result: Classification, message: Message, *, problem: str | None = None,
            product: str | None = None, line: int | None = None, document: Document | None = None) -> Step:
    event = refused(ctx, doc_id, result, problem or message.code.value, message.message_zh, product)
    outcome = ScanOutcome(Verdict.REFUSED, message, False, result.raw, doc_id or None, line, result.identity_key)
    return Step(document, (event,), outcome)


def classification_refusal(result: Classification) -> Message:
    """The counter message for a scan that is not a usable traceability code."""
    problem = result.problem
    if problem is not None and problem.code is Problem.COMMODITY_BARCODE:
        return render(MessageCode.COMMODITY_BARCODE)
    zh = problem.message_zh if problem else "不是追溯码。"
    en = problem.message_en if problem else "Not a traceability code."
    return render(MessageCode.NOT_A_TRACE_CODE, zh=zh, en=en)


def scan_without_document(result: Classification, ctx: Context) -> Step:
    """A device scan while no document is open: refused, and still reported."""
    if not result.is_trace_code:
        message = classification_refusal(result)
        return _refuse(ctx, "", result, message, problem=result.problem.code.value if result.problem else None)
    return _refuse(ctx, "", result, render(MessageCode.NO_OPEN_DOCUMENT))


def _choose_line(document: Document, result: Classification, line_number: int | None) -> Line | None:
    """The line a code goes on: the given line if it matches, else the first matching line with room."""
    if line_number is not None:
        line = document.line(line_number)
        return line if line.matches(result.product_key) else None
    matching = [line for line in document.lines if line.matches(result.product_key)]
    with_room = [line for line in matching if len(line.codes) < line.boxes]
    return (with_room or matching or [None])[0]


def _billed_for_mismatch(document: Document, line_number: int | None) -> Line:
    if line_number is not None:
        return document.line(line_number)
    return next((line for line in document.lines if line.missing), document.lines[0])


def scan(document: Document, result: Classification, ctx: Context, line_number: int | None = None) -> Step:
    """Apply one classified scan to an open document. Raises CounterError only for a closed document or
    an unknown line number given by the POS; every scan problem is a refused outcome, not an exception."""
    document.require_open()
    doc_id = document.doc_id
    if line_number is not None:
        document.line(line_number)  # unknown line: the POS's mistake, raised
    if not result.is_trace_code:
        message = classification_refusal(result)
        return _refuse(ctx, doc_id, result, message, document=document,
                       problem=result.problem.code.value if result.problem else None)
    key = result.identity_key
    assert key is not None
    earlier = document.line_with_code(key)
    if earlier is not None:
        message = render(MessageCode.DUPLICATE_IN_DOCUMENT, line=earlier.number)
        return Step(document, (), ScanOutcome(Verdict.WARNING, message, False, result.raw, doc_id, earlier.number, key))
    if not document.lines:
        return _refuse(ctx, doc_id, result, render(MessageCode.NO_LINES), document=document)
    line = _choose_line(document, result, line_number)
    if line is None:
        billed = _billed_for_mismatch(document, line_number)
        message = render(MessageCode.PRODUCT_MISMATCH, product_key=result.product_key, product=billed.name)
        return _refuse(ctx, doc_id, result, message, product=billed.product_id, line=billed.number, document=document)
    if len(line.codes) >= line.boxes:
        message = render(MessageCode.LINE_FULL, line=line.number, boxes=line.boxes)
        return _refuse(ctx, doc_id, result, message, product=line.product_id, line=line.number, document=document)
    warning: Message | None = None
    if result.expired(ctx.now.date()):
        expiry = result.expiry.isoformat() if result.expiry else "?"
        if document.kind is DocKind.SALE:
            return _refuse(ctx, doc_id, result, render(MessageCode.EXPIRED, expiry=expiry), product=line.product_id,
                           line=line.number, document=document)
        if document.kind is DocKind.RECEIPT:
            warning = render(MessageCode.EXPIRED_AT_RECEIPT, expiry=expiry)
    state = ctx.code_state(key)
    state_problem = _state_problem(document, line, state)
    if document.kind is DocKind.RECEIPT and state in (LocalCodeState.SOLD, LocalCodeState.OPENED):
        warning = render(MessageCode.RECEIVED_AFTER_SALE_HERE)
    if state_problem is not None:
        return _refuse(ctx, doc_id, result, state_problem, product=line.product_id, line=line.number,
                       document=document)
    scanned = ScannedCode(key=key, kind=CodeKind(result.kind.value), product_key=result.product_key,
                          batch=result.batch, expiry=result.expiry, event_id=ctx.new_id(), at=ctx.now)
    new_line = line.with_code(scanned)
    updated = document.with_line(new_line)
    event = code_event(ctx, updated, new_line, scanned)
    message = warning or render(MessageCode.ACCEPTED, line=line.number, product=line.name)
    verdict = Verdict.WARNING if warning else Verdict.ACCEPTED
    return Step(updated, (event,), ScanOutcome(verdict, message, True, result.raw, doc_id, line.number, key))


def _state_problem(document: Document, line: Line, state: LocalCodeState | None) -> Message | None:
    zh, en = _ACTIONS[document.kind]
    if document.kind is DocKind.SALE_RETURN:
        if state not in (LocalCodeState.SOLD, LocalCodeState.OPENED):
            return render(MessageCode.NOT_SOLD_HERE)
        return None
    if document.kind is DocKind.SALE and state is LocalCodeState.OPENED and line.trdn_flag == 0:
        return render(MessageCode.OPENED_BOX_WHOLE_SALE)
    code = _FORBIDDEN[document.kind].get(state) if state is not None else None
    return render(code, action=zh, action_en=en) if code is not None else None
