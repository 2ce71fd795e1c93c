"""Small builders of sealed wire events for the rules' tests: readable ids, times relative to T0."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from drugtrace.events import (
    Code, CodeKind, DeviceHealth, Health, Heartbeat, PackLevel, Payment, PurchaseReturn, Receipt, Sale, SaleReturn,
    ScanRefused, SettledLine, Settlement, StockChange, StockChangeKind, Stocktake,
)
from drugtrace.wire import seal

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=CST)  # a Monday, 09:00 China Standard Time
CODE = "81234567890123456789"
PRODUCT_KEY = "8123456"
PRODUCT = "XA01AAA0101"
PERSON = "p_0123456789abcdef0123456789abcdef"


def t(days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _seq(at: dt.datetime) -> int:
    """A per-store sequence that grows with time (events here are at least a second apart)."""
    return int((at - T0).total_seconds()) + 10**8


def box(key: str = CODE, product_key: str | None = PRODUCT_KEY, pack: PackLevel = PackLevel.BOX) -> Code:
    return Code(key=key, kind=CodeKind.NMPA, product_key=product_key, pack=pack)


def receipt(id: str, store: str, at: dt.datetime, *, code: str = CODE, doc: str = "R1",
            contains: Sequence[str] = ()) -> Receipt:
    pack = PackLevel.CASE if contains else PackLevel.BOX
    return seal(Receipt(id=id, store=store, doc=doc, seq=_seq(at), at=at, supplier="国药控股湖北有限公司",
                        invoice="INV1", product=PRODUCT, code=box(code, pack=pack), contains=list(contains)))


def stocktake(id: str, store: str, at: dt.datetime, *, code: str = CODE) -> Stocktake:
    return seal(Stocktake(id=id, store=store, doc="ST1", seq=_seq(at), at=at, product=PRODUCT, code=box(code)))


def purchase_return(id: str, store: str, at: dt.datetime, *, code: str = CODE) -> PurchaseReturn:
    return seal(PurchaseReturn(id=id, store=store, doc="PR1", seq=_seq(at), at=at,
                               supplier="国药控股湖北有限公司", product=PRODUCT, code=box(code)))


def stock_change(id: str, store: str, at: dt.datetime, change: StockChangeKind, *, code: str = CODE) -> StockChange:
    return seal(StockChange(id=id, store=store, doc="SC1", seq=_seq(at), at=at, product=PRODUCT, code=box(code),
                            change=change))


def sale(id: str, store: str, at: dt.datetime, doc: str, *, code: str = CODE, product: str = PRODUCT,
         product_key: str | None = PRODUCT_KEY, split: tuple[int, int] | None = None, line: int = 1) -> Sale:
    """A sale of a whole box, or with `split=(units, units_per_box)` a split-pack sale (trdn_flag 1)."""
    units, per_box = split if split is not None else (1, 1)
    return seal(Sale(id=id, store=store, doc=doc, seq=_seq(at), at=at, line=line, product=product,
                     code=box(code, product_key), price_fen=4200, trdn_flag=int(split is not None), units=units,
                     units_per_box=per_box))


def sale_return(id: str, store: str, at: dt.datetime, original_doc: str, *, code: str = CODE,
                doc: str = "RET1") -> SaleReturn:
    return seal(SaleReturn(id=id, store=store, doc=doc, seq=_seq(at), at=at, original_doc=original_doc,
                           product=PRODUCT, code=box(code)))


def refused(id: str, store: str, at: dt.datetime, problem: str, *, code: str = CODE) -> ScanRefused:
    return seal(ScanRefused(id=id, store=store, doc="D9", seq=_seq(at), at=at, problem=problem, raw=code,
                            product="XB05CCC0301", code=box(code)))


def line(boxes_required: int, codes: int, *, number: int = 1, product: str = PRODUCT, quantity: int | None = None,
         exempt: bool = False, overridden: bool = False) -> SettledLine:
    return SettledLine(line=number, product=product, quantity=boxes_required if quantity is None else quantity,
                       boxes_required=boxes_required, codes=codes, exempt=exempt, overridden=overridden)


def settlement(id: str, store: str, at: dt.datetime, doc: str, *, payment: Payment = Payment.INSURANCE,
               person: str | None = PERSON, lines: Sequence[SettledLine] = ()) -> Settlement:
    return seal(Settlement(id=id, store=store, doc=doc, seq=_seq(at), at=at, setl_id=f"SETL-{id}", payment=payment,
                           total_fen=4200, fund_fen=3000 if payment is Payment.INSURANCE else 0, person=person,
                           lines=list(lines) or [line(1, 1)]))


def heartbeat(id: str, store: str, at: dt.datetime, *, outbox_depth: int = 0,
              last_upload: dt.datetime | None = None) -> Heartbeat:
    return seal(Heartbeat(id=id, store=store, doc="", seq=_seq(at), at=at, version="0.1.0", outbox_depth=outbox_depth,
                          outbox_capacity=1_000_000, last_upload=last_upload,
                          scanners=[DeviceHealth(name="serial0", health=Health.OK)]))
