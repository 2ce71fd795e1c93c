"""Build drugtrace.events values from counter documents (seq=1 placeholder, hash empty: the outbox seals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.counter.model import DocKind, Document, Line, ScannedCode
from agent.ports import LocalCodeState
from drugtrace.codes import Classification
from drugtrace.events import (
    AnyEvent, Code, CodeKind, PurchaseReturn, Receipt, Sale, SaleReturn, ScanRefused, StockChange, Stocktake,
)

RAW_MAX = 128
TEXT_MAX = 200


@dataclass(frozen=True)
class Context:
    """What an operation needs from outside the pure core: store id, clock, id maker, local code states."""

    store: str
    now: dt.datetime
    new_id: Callable[[], str]
    code_state: Callable[[str], LocalCodeState | None] = lambda key: None

    def common(self, doc: str, event_id: str | None = None) -> dict[str, Any]:
        return {"id": event_id or self.new_id(), "store": self.store, "doc": doc, "seq": 1, "at": self.now}


def code_of(scanned: ScannedCode) -> Code:
    return Code(key=scanned.key, kind=scanned.kind, product_key=scanned.product_key,
                batch=scanned.batch[:20] if scanned.batch else None, expiry=scanned.expiry)


def wire_code(result: Classification) -> Code | None:
    """The Code of a classification that has an identity key, else None."""
    if result.identity_key is None:
        return None
    return Code(key=result.identity_key[:120], kind=CodeKind(result.kind.value), product_key=result.product_key,
                batch=result.batch[:20] if result.batch else None, expiry=result.expiry)


def refused(ctx: Context, doc: str, result: Classification, problem: str, message_zh: str,
            product: str | None = None) -> ScanRefused:
    """A ScanRefused event; raw text is cut to the wire's limit, never dropped."""
    return ScanRefused(**ctx.common(doc), problem=problem, raw=result.raw[:RAW_MAX], product=product,
                       code=wire_code(result), message=message_zh[:TEXT_MAX])


def code_event(ctx: Context, document: Document, line: Line, scanned: ScannedCode) -> AnyEvent:
    """The event recording one code accepted onto a line of `document`."""
    common = ctx.common(document.doc_id, scanned.event_id)
    code = code_of(scanned)
    if document.kind is DocKind.RECEIPT:
        return Receipt(**common, supplier=document.supplier, invoice=document.invoice,
                       product=line.product_id, code=code)
    if document.kind is DocKind.PURCHASE_RETURN:
        return PurchaseReturn(**common, supplier=document.supplier, product=line.product_id, code=code)
    if document.kind is DocKind.STOCK_CHANGE:
        return StockChange(**common, product=line.product_id, code=code, change=document.change,
                           reason=document.reason)
    if document.kind is DocKind.STOCKTAKE:
        return Stocktake(**common, product=line.product_id, code=code)
    if document.kind is DocKind.SALE:
        return sale_event(ctx, document, line, code, scanned.event_id)
    return SaleReturn(**common, original_doc=document.original_doc, setl_id=document.original_setl_id,
                      product=line.product_id, code=code)


def sale_event(ctx: Context, document: Document, line: Line, code: Code | None, event_id: str | None = None) -> Sale:
    """A Sale for one box of `line`, or for a whole exempt line (code None, units = the line's quantity)."""
    split = line.trdn_flag == 1 or code is None
    return Sale(**ctx.common(document.doc_id, event_id), line=line.number, product=line.product_id,
                code=code, price_fen=line.price_fen, trdn_flag=line.trdn_flag,
                units=line.quantity if split else 1, units_per_box=line.units_per_box, rx=line.rx)
