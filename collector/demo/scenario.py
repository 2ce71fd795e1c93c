"""A day of a small county as a pure, seeded plan (`build_scenario`), with every fraud pattern of
DOMAIN §4 rules 1-11 planted next to legitimate look-alikes.

Store roles (the first four stores; more stores only add ordinary trade):
A sells the box that later turns up at B (rule 2) and at C's receipt (rule 4), runs a swipe-then-
return cycle (7), and has one legitimate override among many collected boxes (10's look-alike);
B opens one box for two split sales that add up to more than it holds (3) and receives a box A
also received (5); C's agent is reinstalled and sells a box again (1), and its cashier scans a box
of another product (8); D sells a box it never received (6), settles with overrides while its
scanner is "broken" (10) and goes silent at the end (11). One insured person buys a chronic
medicine at three stores beyond the limit (9). Expected subjects are computed with the collector's
own subject functions from the same codes, pseudonyms and day.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from collector.demo.plan import (
    Box, Expect, Line, LookAlike, Phase, Planted, Reinstall, Return, Sale, Scan, Scenario, Silence, Step, Stock,
    StockKind, StoreInfo, Via,
)
from collector.demo.products import AMLO, AMOX, CEFX, HERB, IBU, METF, NEEDLE, Product, commodity_barcode
from collector.rules.model import Rule, person_subject, store_day_subject, store_subject
from collector.rules.settings import DEFAULT_SETTINGS
from drugtrace.codes import classify
from drugtrace.pseudonym import pseudonymise

STORE_NAMES = ("仁和大药房", "百姓缘药店", "同济堂药房", "康宁大药房", "益丰大药房", "老百姓大药房", "九州通好药师",
               "民生药房", "天天好大药房", "惠民药店")
SUPPLIERS = ("国药控股湖北有限公司", "九州通医药集团股份有限公司", "华润湖北医药有限公司")
EVERYDAY = (AMOX, IBU, METF, AMLO, NEEDLE)
MIN_STORES = 4
MAX_STORES = len(STORE_NAMES)
DEFAULT_SEED = 20260315
OVERRIDE_REASON_BROKEN = "扫码枪故障，手工登记 / scanner broken, written down by hand"
OVERRIDE_REASON_DAMAGED = "追溯码标签破损 / code label damaged"


@dataclass(frozen=True)
class Size:
    stores: int
    ordinary_sales: int  # per store, besides the planted stories
    afternoon_sales: int  # per store, after the follow-ups


SHORT = Size(stores=4, ordinary_sales=3, afternoon_sales=1)
FULL = Size(stores=6, ordinary_sales=40, afternoon_sales=10)


@dataclass
class _Builder:
    rng: random.Random
    day: dt.date
    county_key: bytes
    received: dict[str, list[Box]] = field(default_factory=dict)  # boxes each store receives in the morning
    expired: dict[str, list[Box]] = field(default_factory=dict)
    serials: dict[str, int] = field(default_factory=dict)
    persons: set[str] = field(default_factory=set)
    settlements: int = 0

    def box(self, product: Product, *, expiry: dt.date | None = None) -> Box:
        serial = self.serials.get(product.product_id) or self.rng.randrange(10**8, 10**9)
        serial += self.rng.randrange(1, 40)
        self.serials[product.product_id] = serial
        raw = product.code(serial, expiry or self.day + dt.timedelta(days=700), f"B{self.day:%y%m}{serial % 97:02d}")
        key = classify(raw).identity_key
        assert key is not None, raw
        return Box(raw=raw, key=key, product=product.product_id)

    def stocked(self, store: str, product: Product, count: int = 1) -> list[Box]:
        boxes = [self.box(product) for _ in range(count)]
        self.received.setdefault(store, []).extend(boxes)
        return boxes

    def person(self) -> str:
        while True:
            psn = f"4201{self.rng.randrange(10**13, 10**14)}"
            if psn not in self.persons:
                self.persons.add(psn)
                return psn

    def pseudonym(self, psn_no: str) -> str:
        return pseudonymise(psn_no, self.county_key)

    def via(self) -> Via:
        return Via.POS if self.rng.random() < 0.25 else Via.SCANNER

    def sale(self, store: str, ref: str, items: list[tuple[Product, int, int, list[Box]]], *, insurance: bool,
             psn_no: str | None = None, via: Via | None = None, scans: list[Scan] | None = None,
             override: str = "", cancel: bool = False) -> Sale:
        """items: (product, quantity, trdn_flag, boxes); scans default to each box once, in order."""
        self.settlements += 1
        lines = tuple(Line(p.product_id, quantity, p.price_fen * quantity // p.units_per_box if trdn else p.price_fen,
                           trdn, override if not boxes and not p.exempt else "")
                      for p, quantity, trdn, boxes in items)
        if scans is None:
            scans = [Scan(b.raw) for _, _, _, boxes in items for b in boxes]
        if insurance and psn_no is None:
            psn_no = self.person()
        return Sale(store=store, ref=ref, lines=lines, scans=tuple(scans),
                    setl_id=f"{store}-{self.day:%Y%m%d}-{self.settlements:05d}", insurance=insurance,
                    psn_no=psn_no if insurance else None, via=via or self.via(), cancel=cancel)

    def ordinary_sale(self, store: str, ref: str, *, insurance: bool | None = None) -> Sale:
        """Everyday trade: one or two products, a box or two each, sometimes a split pack or herbs."""
        rng = self.rng
        items: list[tuple[Product, int, int, list[Box]]] = []
        for product in rng.sample(EVERYDAY, 2 if rng.random() < 0.3 else 1):
            quantity = rng.choice((1, 1, 1, 2, 2, 3))
            items.append((product, quantity, 0, self.stocked(store, product, quantity)))
        if rng.random() < 0.2:
            items.append((CEFX, rng.randrange(2, 7), 1, self.stocked(store, CEFX)))
        if rng.random() < 0.15:
            items.append((HERB, rng.randrange(3, 8), 0, []))  # doses of 中药饮片: exempt, no code
        return self.sale(store, ref, items, insurance=rng.random() < 0.7 if insurance is None else insurance)


def _interleave(rng: random.Random, first: list[Step], second: list[Step]) -> list[Step]:
    """A random merge of two lists that keeps each list's own order."""
    merged: list[Step] = []
    a, b = list(first), list(second)
    while a or b:
        take_a = bool(a) and (not b or rng.random() < len(a) / (len(a) + len(b)))
        merged.append((a if take_a else b).pop(0))
    return merged


def collected_boxes(sale: Sale) -> int:
    """Boxes of an insurance sale that carry a code (rule 10's numerator)."""
    if not sale.insurance or sale.cancel:
        return 0
    return sum(1 if line.trdn_flag else line.quantity for line in sale.lines if not line.override
               and line.product != HERB.product_id)


def _receipts(b: _Builder, store: str, extra: list[Box], expired: list[Box]) -> list[Stock]:
    """The morning deliveries of one store: everything it will sell, plus spare stock."""
    boxes = b.received.get(store, []) + extra + expired
    for product in EVERYDAY:
        boxes += b.stocked(store, product, b.rng.randrange(1, 3))  # spare stock, never sold today
    b.rng.shuffle(boxes)
    half = max(1, len(boxes) // 2)
    documents = []
    for number, chunk in enumerate((boxes[:half], boxes[half:])):
        if not chunk:
            continue
        counts: dict[str, int] = {}
        for box in chunk:
            counts[box.product] = counts.get(box.product, 0) + 1
        lines = tuple(Line(product, count) for product, count in counts.items())
        scans = tuple(Scan(box.raw, Expect.EXPIRED_AT_RECEIPT if box in expired else Expect.ACCEPTED) for box in chunk)
        documents.append(Stock(store=store, kind=StockKind.RECEIPT, lines=lines, scans=scans,
                               supplier=SUPPLIERS[(number + len(store)) % len(SUPPLIERS)],
                               invoice=f"INV{b.day:%Y%m%d}{store}{number + 1}",
                               via=Via.POS if number == 1 and store.endswith("2") else Via.SCANNER))
    return documents


def store_list(stores: int) -> tuple[StoreInfo, ...]:
    """The county's stores S01, S02, … with their names."""
    if not MIN_STORES <= stores <= MAX_STORES:
        raise ValueError(f"Expected {MIN_STORES} to {MAX_STORES} stores, got {stores}.")
    return tuple(StoreInfo(f"S{n:02d}", STORE_NAMES[n - 1]) for n in range(1, stores + 1))


def build_scenario(*, day: dt.date, county_key: bytes, stores: int = FULL.stores, short: bool = False,
                   seed: int = DEFAULT_SEED, county: str = "demo") -> Scenario:
    """The whole day: phases of documents per store, the planted patterns and the look-alikes."""
    infos = store_list(stores)
    size = SHORT if short else FULL
    b = _Builder(random.Random(seed), day, county_key)
    ids = [info.store for info in infos]
    A, B, C, D = ids[:4]
    planted: list[Planted] = []
    looks: list[LookAlike] = []
    day_sales: dict[str, list[Step]] = {store: [] for store in ids}
    later: dict[str, list[Step]] = {store: [] for store in ids}
    extra_receipts: dict[str, list[Box]] = {store: [] for store in ids}
    expired: dict[str, list[Box]] = {store: [] for store in ids}

    def add(store: str, step: Step, *, afternoon: bool = False) -> None:
        (later if afternoon else day_sales)[store].append(step)

    # Rule 1: sold, then the agent reinstalled (local history gone), sold again at the same store.
    x1 = b.stocked(C, AMLO)[0]
    add(C, b.sale(C, "r1-first", [(AMLO, 1, 0, [x1])], insurance=True))
    add(C, Reinstall(C), afternoon=True)
    add(C, b.sale(C, "r1-again", [(AMLO, 1, 0, [x1])], insurance=True), afternoon=True)
    planted.append(Planted(Rule.SOLD_TWICE_SAME_STORE, x1.key, (C,),
                           f"{C} sells a box, wipes its agent's data folder (no more local check), sells it again"))
    # Rule 2: sold at A, found on B's shelf at a stocktake, sold again at B.
    x2 = b.stocked(A, AMOX)[0]
    add(A, b.sale(A, "r2-first", [(AMOX, 1, 0, [x2])], insurance=True))
    add(B, Stock(B, StockKind.STOCKTAKE, (Line(AMOX.product_id, 1),), (Scan(x2.raw),)), afternoon=True)
    add(B, b.sale(B, "r2-again", [(AMOX, 1, 0, [x2])], insurance=True, via=Via.POS), afternoon=True)
    planted.append(Planted(Rule.SOLD_AT_TWO_STORES, x2.key, (A, B),
                           f"a box sold at {A} turns up on {B}'s shelf (回流药) and is sold again"))
    # Rule 3: one opened box of 10 tablets sold as 6 + 6 at B.
    x3 = b.stocked(B, CEFX)[0]
    add(B, b.sale(B, "r3-first", [(CEFX, 6, 1, [x3])], insurance=True))
    add(B, b.sale(B, "r3-again", [(CEFX, 6, 1, [x3])], insurance=False))
    planted.append(Planted(Rule.SPLIT_PACK_ABUSE, x3.key, (B,),
                           f"{B} sells 6 + 6 tablets from one box of {CEFX.units_per_box}"))
    # Rule 4: sold at A, then received by C as if from a supplier.
    x4 = b.stocked(A, IBU)[0]
    add(A, b.sale(A, "r4-first", [(IBU, 1, 0, [x4])], insurance=False))
    add(C, Stock(C, StockKind.RECEIPT, (Line(IBU.product_id, 1),), (Scan(x4.raw),), supplier="个人回收 unknown seller",
                 invoice=f"INV{day:%Y%m%d}{C}X"), afternoon=True)
    planted.append(Planted(Rule.RECEIVED_AFTER_SALE, x4.key, (A, C), f"a box sold at {A} is received by {C} (回流)"))
    # Rule 5: the same code received by A and B (a cloned code).
    x5 = b.box(AMLO)
    extra_receipts[A].append(x5)
    extra_receipts[B].append(x5)
    planted.append(Planted(Rule.RECEIVED_TWICE, x5.key, (A, B), f"{A} and {B} both receive the same code (cloned)"))
    # Rule 6: D sells a box nobody ever received.
    x6 = b.box(AMOX)
    add(D, b.sale(D, "r6", [(AMOX, 1, 0, [x6])], insurance=True))
    planted.append(Planted(Rule.NO_PROVENANCE, x6.key, (D,), f"{D} sells a box it never received"))
    # Rule 7: insurance sale at A, returned at once, sold again on insurance.
    x7 = b.stocked(A, METF)[0]
    add(A, b.sale(A, "r7-first", [(METF, 1, 0, [x7])], insurance=True))
    add(A, Return(A, "r7-first", METF.product_id, (x7,)), afternoon=True)
    add(A, b.sale(A, "r7-again", [(METF, 1, 0, [x7])], insurance=True), afternoon=True)
    planted.append(Planted(Rule.SWIPE_RETURN_CYCLE, x7.key, (A,),
                           f"{A} swipes a card, takes the box back, swipes another card for it (刷卡即退药)"))
    # Rule 8: C's cashier scans a box of ibuprofen on an amoxicillin line.
    y8 = b.stocked(C, IBU)[0]
    amox = b.stocked(C, AMOX)[0]
    add(C, b.sale(C, "r8", [(AMOX, 1, 0, [amox])], insurance=True,
                  scans=[Scan(y8.raw, Expect.MISMATCH), Scan(amox.raw)]))
    planted.append(Planted(Rule.PRODUCT_MISMATCH, y8.key, (C,), f"{C} scans a box of another product (串换)"))
    # Rule 9: one insured person buys 4 + 4 + 3 boxes of metformin at A, B and C (limit 10).
    p9 = b.person()
    for store, count in ((A, 4), (B, 4), (C, 3)):
        add(store, b.sale(store, f"r9-{store}", [(METF, count, 0, b.stocked(store, METF, count))], insurance=True,
                          psn_no=p9))
    limit = DEFAULT_SETTINGS.purchase_max_quantity
    planted.append(Planted(Rule.EXCESS_PURCHASES, person_subject(b.pseudonym(p9), METF.product_id), (A, B, C),
                           f"one insured person buys 11 boxes of metformin at {A}, {B}, {C} (limit {limit})"))
    # Look-alike of 9: another person buys exactly the limit.
    p9b = b.person()
    for store, count in ((A, 4), (B, 3), (D, 3)):
        add(store, b.sale(store, f"l9-{store}", [(METF, count, 0, b.stocked(store, METF, count))], insurance=True,
                          psn_no=p9b))
    looks.append(LookAlike(Rule.EXCESS_PURCHASES, (A, B, D),
                           f"another person buys exactly {limit} boxes over 3 stores"))

    # Look-alikes of 1-8.
    rescan = b.stocked(A, AMOX, 2)
    add(A, b.sale(A, "l-rescan", [(AMOX, 2, 0, rescan)], insurance=True, via=Via.SCANNER,
                  scans=[Scan(rescan[0].raw), Scan(rescan[0].raw, Expect.REPEAT), Scan(rescan[1].raw)]))
    looks.append(LookAlike(Rule.SOLD_TWICE_SAME_STORE, (A,), "a box scanned twice on one sale (input mistake)"))
    y7 = b.stocked(B, AMLO)[0]
    add(B, b.sale(B, "l7-first", [(AMLO, 1, 0, [y7])], insurance=True))
    add(B, Return(B, "l7-first", AMLO.product_id, (y7,)), afternoon=True)
    add(B, b.sale(B, "l7-again", [(AMLO, 1, 0, [y7])], insurance=False), afternoon=True)
    looks.append(LookAlike(Rule.SWIPE_RETURN_CYCLE, (B,), "insurance sale returned, box resold self-pay"))
    z7 = b.stocked(C, IBU)[0]
    add(C, b.sale(C, "l7b-first", [(IBU, 1, 0, [z7])], insurance=False))
    add(C, Return(C, "l7b-first", IBU.product_id, (z7,), via=Via.POS))
    add(C, b.sale(C, "l7b-again", [(IBU, 1, 0, [z7])], insurance=True))
    looks.append(LookAlike(Rule.SOLD_TWICE_SAME_STORE, (C,), "self-pay sale returned, box resold on insurance"))
    w = b.stocked(B, AMOX)[0]
    add(B, b.sale(B, "l-cancel", [(AMOX, 1, 0, [w])], insurance=True, cancel=True))
    add(B, b.sale(B, "l-cancel-resold", [(AMOX, 1, 0, [w])], insurance=True))
    looks.append(LookAlike(Rule.SOLD_TWICE_SAME_STORE, (B,), "a sale voided before payment, its box sold next"))
    y3 = b.stocked(C, CEFX)[0]
    add(C, b.sale(C, "l3-first", [(CEFX, 4, 1, [y3])], insurance=True))
    add(C, b.sale(C, "l3-again", [(CEFX, 6, 1, [y3])], insurance=True))
    looks.append(LookAlike(Rule.SPLIT_PACK_ABUSE, (C,), f"one box of {CEFX.units_per_box} sold as 4 + 6 tablets"))
    y5 = b.stocked(C, IBU)[0]
    add(C, Stock(C, StockKind.PURCHASE_RETURN, (Line(IBU.product_id, 1),), (Scan(y5.raw),), supplier=SUPPLIERS[0]))
    add(D, Stock(D, StockKind.RECEIPT, (Line(IBU.product_id, 1),), (Scan(y5.raw),), supplier=SUPPLIERS[0],
                 invoice=f"INV{day:%Y%m%d}{D}X"), afternoon=True)
    looks.append(LookAlike(Rule.RECEIVED_TWICE, (C, D), f"{C} returns a box to the supplier, who delivers it to {D}"))
    junk = commodity_barcode(f"6901{b.rng.randrange(10**7, 10**8)}")
    good = b.stocked(B, IBU)[0]
    add(B, b.sale(B, "l-commodity", [(IBU, 1, 0, [good])], insurance=True, via=Via.SCANNER,
                  scans=[Scan(junk, Expect.COMMODITY), Scan(good.raw)]))
    looks.append(LookAlike(Rule.PRODUCT_MISMATCH, (B,), "a commodity barcode scanned instead of the code (refused)"))
    old = b.box(NEEDLE, expiry=day - dt.timedelta(days=20))
    expired[A].append(old)
    fresh = b.stocked(A, NEEDLE)[0]
    add(A, b.sale(A, "l-expired", [(NEEDLE, 1, 0, [fresh])], insurance=True, via=Via.SCANNER,
                  scans=[Scan(old.raw, Expect.EXPIRED), Scan(fresh.raw)]))
    looks.append(LookAlike(Rule.PRODUCT_MISMATCH, (A,), "an expired box blocked at the counter, a good one sold"))
    looks.append(LookAlike(Rule.NO_PROVENANCE, tuple(ids), "every other sale's box was received in the morning"))

    # Ordinary trade everywhere, interleaved with the stories (each story keeps its order).
    for store in ids:
        ordinary = [b.ordinary_sale(store, f"{store}-sale-{n}") for n in range(size.ordinary_sales)]
        day_sales[store] = _interleave(b.rng, day_sales[store], ordinary)
        ordinary = [b.ordinary_sale(store, f"{store}-pm-{n}") for n in range(size.afternoon_sales)]
        later[store] = _interleave(b.rng, later[store], ordinary)
    # Rule 9 look-alike and rules 1-8 stories are in place; now rule 10 and its look-alike.
    # A: one damaged label among at least 20 collected boxes: never below 95 %, so no alert.
    while sum(collected_boxes(s) for s in day_sales[A] if isinstance(s, Sale)) < 20:
        day_sales[A].insert(0, b.ordinary_sale(A, f"{A}-extra-{len(day_sales[A])}", insurance=True))
    add(A, b.sale(A, "l10-damaged", [(AMOX, 1, 0, [])], insurance=True, override=OVERRIDE_REASON_DAMAGED,
                  via=Via.POS))
    looks.append(LookAlike(Rule.COLLECTION_GAP, (A,), "one override for a damaged label among 20+ collected boxes"))
    # D: its scanner "breaks": enough insurance sales settled by override to fall below 95 %.
    collected = sum(collected_boxes(s) for s in day_sales[D] if isinstance(s, Sale))
    for n in range(max(2, collected // 8 + 1)):
        add(D, b.sale(D, f"r10-{n}", [(b.rng.choice(EVERYDAY), 1, 0, [])], insurance=True,
                      override=OVERRIDE_REASON_BROKEN, via=Via.POS))
    planted.append(Planted(Rule.COLLECTION_GAP, store_day_subject(D, day.isoformat()), (D,),
                           f"{D} settles insurance sales by override while its scanner is 'broken'"))
    # Rule 11: D's agent stops for good in the evening.
    planted.append(Planted(Rule.STORE_SILENT, store_subject(D), (D,), f"{D}'s agent stops sending heartbeats"))

    morning: list[Step] = []
    for store in ids:
        morning += _receipts(b, store, extra_receipts[store], expired[store])
    phases = (
        Phase("morning deliveries 上午到货", tuple(morning)),
        Phase("day sales 白天销售", tuple(step for store in ids for step in day_sales[store])),
        Phase("afternoon follow-ups 下午", tuple(step for store in ids for step in later[store])),
        Phase("evening 晚上", (Silence(D),)),
    )
    return Scenario(seed=seed, county=county, day=day, stores=infos, phases=phases, planted=tuple(planted),
                    look_alikes=tuple(looks))
