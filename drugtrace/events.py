"""The event contract between agent and collector (schema version 1).

Every event is a frozen msgspec Struct tagged by `type`. Common fields: `id` (made at the
store, time-ordered UUIDv7), `store`, `doc`, `seq` (per-store sequence), `at` (store clock,
timezone-aware), `v` (schema version) and `hash` (content hash, see `seal`). The collector
treats (store, id) as an event's identity. Money is in fen (integer), never floats.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Union

import msgspec
from msgspec import Meta, Struct

SCHEMA_VERSION = 1

Id = Annotated[str, Meta(min_length=1, max_length=64)]
Text = Annotated[str, Meta(max_length=200)]
Count = Annotated[int, Meta(ge=0)]
Fen = Annotated[int, Meta(ge=0)]
AwareTime = Annotated[dt.datetime, Meta(tz=True)]


class CodeKind(enum.Enum):
    """Kinds of code carried on the wire (mirrors drugtrace.codes.CodeKind)."""

    NMPA = "nmpa"
    GS1 = "gs1"
    UNCLASSIFIED = "unclassified"


class PackLevel(enum.Enum):
    BOX = "box"  # 小码: one sales unit
    CASE = "case"  # 中码/大码: stands for the boxes listed in `contains`


class Payment(enum.Enum):
    INSURANCE = "insurance"  # 医保统筹/个人账户
    SELF_PAY = "self_pay"


class StockChangeKind(enum.Enum):
    LOSS = "loss"
    DESTROYED = "destroyed"
    DAMAGED = "damaged"
    OTHER = "other"


class Health(enum.Enum):
    OK = "ok"
    OFFLINE = "offline"
    COVERED = "covered"
    FROZEN = "frozen"
    ERROR = "error"


class Code(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A traceability code as scanned: identity key, kind and product key."""

    key: Annotated[str, Meta(min_length=1, max_length=120)]
    kind: CodeKind
    product_key: Annotated[str, Meta(max_length=14)] | None = None
    batch: Annotated[str, Meta(max_length=20)] | None = None
    expiry: dt.date | None = None
    pack: PackLevel = PackLevel.BOX


class Event(Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=True):
    """Fields every event carries."""

    v: int = SCHEMA_VERSION
    id: Id
    store: Id
    doc: Annotated[str, Meta(max_length=64)] = ""
    seq: Annotated[int, Meta(ge=1)]
    at: AwareTime
    hash: Annotated[str, Meta(max_length=64)] = ""


class Receipt(Event, frozen=True, kw_only=True, tag="receipt"):
    """采购入库 (3503): one code received on a goods-receipt line."""

    supplier: Text
    invoice: Text
    product: Id
    code: Code
    quantity: Annotated[int, Meta(ge=1)] = 1
    contains: list[Annotated[str, Meta(max_length=120)]] = []


class PurchaseReturn(Event, frozen=True, kw_only=True, tag="purchase_return"):
    """采购退货 (3504): a code sent back to the supplier."""

    supplier: Text
    product: Id
    code: Code


class StockChange(Event, frozen=True, kw_only=True, tag="stock_change"):
    """库存变更 (3502): loss, destruction or damage of a code's box."""

    product: Id
    code: Code
    change: StockChangeKind
    reason: Text = ""


class Stocktake(Event, frozen=True, kw_only=True, tag="stocktake"):
    """盘点 (3501): a code found on the shelf."""

    product: Id
    code: Code


class Sale(Event, frozen=True, kw_only=True, tag="sale"):
    """销售 (3505): one box (or the opened box of a split-pack line) sold on a sale line.

    `code` is None only for exempt products (无码库, 中药饮片, 中药配方颗粒).
    trdn_flag 0 = whole box; 1 = split pack, `units` minimum units out of `units_per_box`.
    """

    line: Annotated[int, Meta(ge=1)]
    product: Id
    code: Code | None
    price_fen: Fen
    trdn_flag: Annotated[int, Meta(ge=0, le=1)] = 0
    units: Annotated[int, Meta(ge=1)] = 1
    units_per_box: Annotated[int, Meta(ge=1)] = 1
    rx: bool = False


class SettledLine(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a settlement paid for on one line: boxes that needed codes and codes received."""

    line: Annotated[int, Meta(ge=1)]
    product: Id
    quantity: Count
    boxes_required: Count
    codes: Count
    exempt: bool = False
    overridden: bool = False


class Settlement(Event, frozen=True, kw_only=True, tag="settlement"):
    """结算: the insurance swipe or e-voucher scan that pays a sale document.

    `person` is a keyed pseudonym computed at the store; the real psn_no never leaves it.
    """

    setl_id: Id
    payment: Payment
    total_fen: Fen
    fund_fen: Fen = 0
    person: Id | None = None
    lines: list[SettledLine] = []


class SaleReturn(Event, frozen=True, kw_only=True, tag="sale_return"):
    """销售退货 (3506): a code brought back, referencing the original sale document."""

    original_doc: Id
    setl_id: Id | None = None
    product: Id
    code: Code


class Override(Event, frozen=True, kw_only=True, tag="override"):
    """Settlement allowed with missing codes: recorded with reason and operator, never hidden."""

    line: Annotated[int, Meta(ge=1)]
    product: Id
    missing: Annotated[int, Meta(ge=1)]
    reason: Annotated[str, Meta(min_length=1, max_length=200)]
    operator: Id


class ScanRefused(Event, frozen=True, kw_only=True, tag="scan_refused"):
    """A scan refused at the counter (commodity barcode, 串换, expired, ...), counted and reported."""

    problem: Id
    raw: Annotated[str, Meta(max_length=128)]
    product: Id | None = None
    code: Code | None = None
    message: Text = ""


class DeviceHealth(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Id
    health: Health
    detail: Text = ""
    gaps: Count = 0


class Heartbeat(Event, frozen=True, kw_only=True, tag="heartbeat"):
    """Agent liveness: version, clock (`at`), outbox depth and device health."""

    version: Id
    outbox_depth: Count
    outbox_capacity: Count
    last_upload: AwareTime | None = None
    scanners: list[DeviceHealth] = []
    cameras: list[DeviceHealth] = []


class CameraEvidence(Event, frozen=True, kw_only=True, tag="camera_evidence"):
    """What the counter camera saw around one settlement (DOMAIN §5)."""

    setl_id: Id
    window_start: AwareTime
    window_end: AwareTime
    frames_analysed: Count
    frames_with_person: Count
    people_max: Count
    codes_seen: list[Annotated[str, Meta(max_length=120)]] = []
    camera_health: Health = Health.OK
    motion_mean: Annotated[float, Meta(ge=0)] = 0.0
    still_image: Annotated[str, Meta(max_length=64)] | None = None


AnyEvent = Union[
    Receipt, PurchaseReturn, StockChange, Stocktake, Sale, Settlement, SaleReturn,
    Override, ScanRefused, Heartbeat, CameraEvidence,
]
EVENT_TYPES: tuple[type[Event], ...] = AnyEvent.__args__  # type: ignore[attr-defined]


class Batch(Struct, frozen=True, kw_only=True):
    """One MQTT message: events of one store, in sequence order."""

    v: int = SCHEMA_VERSION
    store: Id
    events: list[msgspec.Raw]
