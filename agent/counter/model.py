"""The counter's documents as frozen values, and their JSON state for the outbox."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

import msgspec

from agent.catalogue import Product
from agent.counter.messages import Message, MessageCode, render
from drugtrace.events import CodeKind, Payment, StockChangeKind


class DocKind(enum.Enum):
    """Counter documents (DOMAIN §2)."""

    RECEIPT = "receipt"  # 采购入库 3503
    PURCHASE_RETURN = "purchase_return"  # 采购退货 3504
    STOCK_CHANGE = "stock_change"  # 库存变更 3502
    STOCKTAKE = "stocktake"  # 盘点 3501
    SALE = "sale"  # 销售 3505
    SALE_RETURN = "sale_return"  # 销售退货 3506


KIND_NAMES = {
    DocKind.RECEIPT: ("采购入库", "receipt"), DocKind.PURCHASE_RETURN: ("采购退货", "purchase return"),
    DocKind.STOCK_CHANGE: ("库存变更", "stock change"), DocKind.STOCKTAKE: ("盘点", "stocktake"),
    DocKind.SALE: ("销售", "sale"), DocKind.SALE_RETURN: ("销售退货", "sale return"),
}


class DocStatus(enum.Enum):
    OPEN = "open"
    SETTLED = "settled"
    CLOSED = "closed"
    CANCELLED = "cancelled"


STATUS_NAMES = {DocStatus.OPEN: "打开", DocStatus.SETTLED: "结算", DocStatus.CLOSED: "完成",
                DocStatus.CANCELLED: "作废"}


class CounterError(Exception):
    """An operation the workflow refuses; carries the bilingual message (the service maps it to errors)."""

    def __init__(self, message: Message, detail: tuple[object, ...] = ()) -> None:
        super().__init__(message.message_en)
        self.message = message
        self.detail = detail

    @classmethod
    def of(cls, code: MessageCode, **params: object) -> CounterError:
        return cls(render(code, **params))

    @property
    def code(self) -> MessageCode:
        return self.message.code


@dataclass(frozen=True)
class ScannedCode:
    """A traceability code accepted onto a line, with the event that recorded it."""

    key: str
    kind: CodeKind
    product_key: str | None
    batch: str | None
    expiry: dt.date | None
    event_id: str
    at: dt.datetime


@dataclass(frozen=True)
class LineOverride:
    """Settlement allowed with missing codes on a line, and who allowed it."""

    reason: str
    operator: str
    missing: int
    event_id: str
    at: dt.datetime


@dataclass(frozen=True)
class Line:
    """One document line; it copies what it needs of the product so a resumed document stands alone.

    quantity: boxes for trdn_flag 0, minimum units for trdn_flag 1 (split pack, one opened box).
    price_fen: per box (trdn_flag 0) or for the line's units (trdn_flag 1).
    """

    number: int
    product_id: str
    name: str
    product_keys: tuple[str, ...]
    needs_codes: bool
    units_per_box: int
    quantity: int
    price_fen: int = 0
    trdn_flag: int = 0
    rx: bool = False
    batch: str | None = None
    expiry: dt.date | None = None
    codes: tuple[ScannedCode, ...] = ()
    override: LineOverride | None = None

    @property
    def boxes(self) -> int:
        """Boxes this line touches: its quantity, or the one opened box of a split-pack line."""
        return 1 if self.trdn_flag == 1 else self.quantity

    @property
    def boxes_required(self) -> int:
        return self.boxes if self.needs_codes else 0

    @property
    def missing(self) -> int:
        return max(0, self.boxes_required - len(self.codes))

    @property
    def ready(self) -> bool:
        """True when every code-requiring box has a code, or an override was recorded."""
        return self.missing == 0 or self.override is not None

    def matches(self, product_key: str | None) -> bool:
        return product_key is not None and product_key in self.product_keys

    def with_code(self, code: ScannedCode) -> Line:
        return replace(self, codes=self.codes + (code,))


def new_line(number: int, product: Product, *, quantity: int, price_fen: int = 0, trdn_flag: int = 0,
             rx: bool = False, batch: str | None = None, expiry: dt.date | None = None) -> Line:
    """A line for `product`; raises CounterError for quantities the rules do not allow."""
    if trdn_flag not in (0, 1):
        raise CounterError.of(MessageCode.BAD_QUANTITY, detail=f"trdn_flag 只能是0或1，收到{trdn_flag}",
                              detail_en=f"expected trdn_flag 0 or 1, got {trdn_flag}")
    if not 1 <= quantity <= 100_000:
        raise CounterError.of(MessageCode.BAD_QUANTITY, detail=f"数量应为1到100000，收到{quantity}",
                              detail_en=f"expected a quantity from 1 to 100000, got {quantity}")
    if price_fen < 0:
        raise CounterError.of(MessageCode.BAD_AMOUNTS, detail=f"单价不能为负（{price_fen}分）",
                              detail_en=f"expected a price of at least 0 fen, got {price_fen}")
    if trdn_flag == 1 and quantity >= product.units_per_box:
        raise CounterError.of(MessageCode.SPLIT_PACK_NOT_ALLOWED, product=product.name, units=product.units_per_box)
    return Line(number=number, product_id=product.product_id, name=product.name, product_keys=product.product_keys,
                needs_codes=product.needs_codes, units_per_box=product.units_per_box, quantity=quantity,
                price_fen=price_fen, trdn_flag=trdn_flag, rx=rx, batch=batch, expiry=expiry)


@dataclass(frozen=True)
class SettlementInfo:
    setl_id: str
    payment: Payment
    total_fen: int
    fund_fen: int
    person: str | None
    event_id: str


@dataclass(frozen=True)
class Document:
    """A counter document and its lines. Header fields apply to the kinds that use them."""

    doc_id: str
    kind: DocKind
    opened_at: dt.datetime
    status: DocStatus = DocStatus.OPEN
    lines: tuple[Line, ...] = ()
    supplier: str = ""  # receipt, purchase return
    invoice: str = ""  # receipt
    change: StockChangeKind = StockChangeKind.OTHER  # stock change
    reason: str = ""  # stock change
    original_doc: str = ""  # sale return
    original_setl_id: str | None = None  # sale return
    settlement: SettlementInfo | None = None

    def line(self, number: int) -> Line:
        for line in self.lines:
            if line.number == number:
                return line
        raise CounterError.of(MessageCode.UNKNOWN_LINE, line=number)

    def with_line(self, line: Line) -> Document:
        return replace(self, lines=tuple(line if old.number == line.number else old for old in self.lines))

    def line_with_code(self, key: str) -> Line | None:
        return next((line for line in self.lines if any(c.key == key for c in line.codes)), None)

    def require_open(self) -> None:
        if self.status is not DocStatus.OPEN:
            raise CounterError.of(MessageCode.DOCUMENT_NOT_OPEN, doc=self.doc_id, status=STATUS_NAMES[self.status],
                                  status_en=self.status.value)

    def require_kind(self, *kinds: DocKind) -> None:
        if self.kind not in kinds:
            zh, en = KIND_NAMES[self.kind]
            raise CounterError.of(MessageCode.WRONG_DOCUMENT_KIND, kind=zh, kind_en=en)

    @property
    def code_count(self) -> int:
        return sum(len(line.codes) for line in self.lines)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Document)


def encode_state(document: Document) -> bytes:
    """The document as the JSON the outbox keeps (DocumentRecord.state)."""
    return _encoder.encode(document)


def decode_state(data: bytes) -> Document:
    """Inverse of encode_state; raises msgspec.ValidationError/DecodeError on a corrupt state."""
    return _decoder.decode(data)
