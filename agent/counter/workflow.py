"""Document operations of the counter: open, add lines, ask to settle, override, settle, finish, cancel.

Pure: `now`, ids and the store's code states come in through `Context`. Each operation returns the
new document and the events to commit with it, or raises CounterError with a bilingual message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agent.catalogue import Product
from agent.counter.emit import Context, code_of, sale_event
from agent.counter.messages import Message, MessageCode, render
from agent.counter.model import CounterError, DocKind, Document, DocStatus, LineOverride, SettlementInfo, new_line
from agent.counter.scanning import Step
from drugtrace.events import AnyEvent, Override, Payment, SaleReturn, SettledLine, Settlement, StockChangeKind

MAX_LINES = 200
TEXT_MAX = 200


@dataclass(frozen=True)
class MissingLine:
    """A line that may not be settled with insurance yet: how many boxes still lack a code."""

    line: int
    product_id: str
    name: str
    boxes_required: int
    codes: int
    missing: int


def _text(value: str, field: str, limit: int = TEXT_MAX) -> str:
    value = value.strip()
    if len(value) > limit:
        raise CounterError.of(MessageCode.BAD_REQUEST, detail=f"{field} longer than {limit} characters")
    return value


def open_document(kind: DocKind, doc_id: str, ctx: Context, *, supplier: str = "", invoice: str = "",
                  change: StockChangeKind = StockChangeKind.OTHER, reason: str = "", original_doc: str = "",
                  original_setl_id: str | None = None) -> Document:
    """A new open document; a sale return must name the original sale document."""
    if kind is DocKind.SALE_RETURN and not original_doc.strip():
        raise CounterError.of(MessageCode.BAD_REQUEST, detail="a sale return needs original_doc (the sale's doc id)")
    return Document(doc_id=doc_id, kind=kind, opened_at=ctx.now, supplier=_text(supplier, "supplier"),
                    invoice=_text(invoice, "invoice"), change=change, reason=_text(reason, "reason"),
                    original_doc=_text(original_doc, "original_doc", 64),
                    original_setl_id=_text(original_setl_id, "setl_id", 64) if original_setl_id else None)


def add_line(document: Document, product: Product, **fields: object) -> Document:
    """Append a line for `product` (fields as in model.new_line)."""
    document.require_open()
    if len(document.lines) >= MAX_LINES:
        raise CounterError.of(MessageCode.BAD_REQUEST, detail=f"a document holds at most {MAX_LINES} lines")
    number = max((line.number for line in document.lines), default=0) + 1
    line = new_line(number, product, **fields)
    return replace(document, lines=document.lines + (line,))


def missing_lines(document: Document) -> tuple[MissingLine, ...]:
    """Lines whose code-requiring boxes lack codes and have no override (empty: may settle)."""
    return tuple(MissingLine(line.number, line.product_id, line.name, line.boxes_required, len(line.codes),
                             line.missing)
                 for line in document.lines if not line.ready)


def override(document: Document, line_number: int, reason: str, operator: str, ctx: Context) -> Step:
    """Allow settlement despite missing codes on one line; recorded as an Override event, never hidden."""
    document.require_open()
    document.require_kind(DocKind.SALE)
    line = document.line(line_number)
    reason, operator = reason.strip(), operator.strip()
    if not reason or not operator or len(reason) > TEXT_MAX or len(operator) > 64:
        raise CounterError.of(MessageCode.OVERRIDE_NEEDS_REASON)
    if line.missing == 0:
        raise CounterError.of(MessageCode.NOTHING_TO_OVERRIDE, line=line.number)
    event = Override(**ctx.common(document.doc_id), line=line.number, product=line.product_id,
                     missing=line.missing, reason=reason, operator=operator)
    record = LineOverride(reason=reason, operator=operator, missing=line.missing, event_id=event.id, at=ctx.now)
    updated = document.with_line(replace(line, override=record))
    return Step(updated, (event,))


def settle(document: Document, ctx: Context, *, setl_id: str, payment: Payment, total_fen: int, fund_fen: int = 0,
           person: str | None = None) -> Step:
    """Close a sale with its settlement. Insurance is refused while code-requiring boxes lack codes.

    `person` is the pseudonym (never the real psn_no). Exempt lines are recorded as Sale events with
    no code; every line's required boxes and codes go into the Settlement, overridden or not.
    """
    document.require_open()
    document.require_kind(DocKind.SALE)
    if not document.lines:
        raise CounterError.of(MessageCode.EMPTY_DOCUMENT)
    if not 0 <= fund_fen <= total_fen:
        raise CounterError.of(MessageCode.BAD_AMOUNTS, detail=f"统筹支付{fund_fen}分应在0到总额{total_fen}分之间",
                              detail_en=f"expected 0 <= fund_fen <= total_fen ({total_fen}), got {fund_fen}")
    if not setl_id.strip() or len(setl_id.strip()) > 64:
        raise CounterError.of(MessageCode.BAD_REQUEST, detail="setl_id must be 1 to 64 characters")
    if payment is Payment.SELF_PAY and fund_fen:
        raise CounterError.of(MessageCode.BAD_AMOUNTS, detail="自费结算的统筹支付应为0",
                              detail_en=f"expected fund_fen 0 for self-pay, got {fund_fen}")
    if payment is Payment.INSURANCE:
        if not person:
            raise CounterError.of(MessageCode.PERSON_REQUIRED)
        missing = missing_lines(document)
        if missing:
            raise CounterError(render(MessageCode.MISSING_CODES, lines=_missing_text(missing)), detail=missing)
    events: list[AnyEvent] = [sale_event(ctx, document, line, None) for line in document.lines
                              if not line.needs_codes and not line.codes]
    settled_lines = [SettledLine(line=line.number, product=line.product_id, quantity=line.quantity,
                                 boxes_required=line.boxes_required, codes=len(line.codes),
                                 exempt=not line.needs_codes, overridden=line.override is not None)
                     for line in document.lines]
    settlement = Settlement(**ctx.common(document.doc_id), setl_id=_text(setl_id, "setl_id", 64),
                            payment=payment, total_fen=total_fen, fund_fen=fund_fen, person=person, lines=settled_lines)
    events.append(settlement)
    info = SettlementInfo(setl_id=settlement.setl_id, payment=payment, total_fen=total_fen, fund_fen=fund_fen,
                          person=person, event_id=settlement.id)
    return Step(replace(document, status=DocStatus.SETTLED, settlement=info), tuple(events))


def _missing_text(missing: tuple[MissingLine, ...]) -> str:
    return "、".join(f"{m.line}({m.missing})" for m in missing)


def finish(document: Document) -> Document:
    """Close a non-sale document (its code events are already recorded)."""
    document.require_open()
    if document.kind is DocKind.SALE:
        raise CounterError.of(MessageCode.MUST_SETTLE)
    return replace(document, status=DocStatus.CLOSED)


def cancel(document: Document, ctx: Context) -> Step:
    """Void an open document. A sale's scanned codes go back to stock through SaleReturn events that
    reference the voided sale itself; other kinds keep their code events (they happened)."""
    document.require_open()
    events: tuple[AnyEvent, ...] = ()
    if document.kind is DocKind.SALE:
        events = tuple(SaleReturn(**ctx.common(document.doc_id), original_doc=document.doc_id,
                                  setl_id=None, product=line.product_id, code=code_of(code))
                       for line in document.lines for code in line.codes)
    return Step(replace(document, status=DocStatus.CANCELLED), events)


def may_settle(document: Document) -> tuple[Message, tuple[MissingLine, ...]]:
    """The answer to "may I settle with insurance?": SETTLE_ALLOWED, or MISSING_CODES and the lines."""
    missing = missing_lines(document)
    if missing:
        return render(MessageCode.MISSING_CODES, lines=_missing_text(missing)), missing
    return render(MessageCode.SETTLE_ALLOWED), ()
