"""A realistic mix of events for benchmarks and tests (what a store sends in a day)."""

from __future__ import annotations

import datetime as dt
import random

from drugtrace.events import (
    AnyEvent, Code, CodeKind, DeviceHealth, Health, Heartbeat, Payment, Receipt, Sale, SettledLine, Settlement,
)
from drugtrace.ids import uuid7
from drugtrace.pseudonym import pseudonymise
from drugtrace.wire import seal

KEY = b"demo-county-pseudonym-key"
TZ = dt.timezone(dt.timedelta(hours=8))


def nmpa_code(rng: random.Random, product_key: str = "8123456") -> Code:
    return Code(key=product_key + "".join(rng.choices("0123456789", k=13)), kind=CodeKind.NMPA,
                product_key=product_key)


def realistic_mix(count: int, store: str = "S001", seed: int = 1) -> list[AnyEvent]:
    """Receipts, sales, settlements and heartbeats in the proportions of a busy store."""
    rng = random.Random(seed)
    at = dt.datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
    events: list[AnyEvent] = []
    seq = 0
    while len(events) < count:
        seq += 1
        at += dt.timedelta(seconds=rng.randint(1, 30))
        roll = rng.random()
        common = dict(id=uuid7(), store=store, doc=f"D{seq // 3}", seq=seq, at=at)
        if roll < 0.25:
            event: AnyEvent = Receipt(**common, supplier="国药控股湖北有限公司", invoice=f"INV{seq}", product="XA01AAA0101",
                                      code=nmpa_code(rng))
        elif roll < 0.80:
            split = rng.random() < 0.1
            event = Sale(**common, line=1, product="XA01AAA0101", code=nmpa_code(rng), price_fen=rng.randint(500, 9000),
                         trdn_flag=int(split), units=rng.randint(1, 6) if split else 1, units_per_box=24 if split else 1)
        elif roll < 0.98:
            event = Settlement(**common, setl_id=f"SETL{seq}", payment=Payment.INSURANCE, total_fen=4200, fund_fen=3000,
                               person=pseudonymise(f"4201{rng.randint(0, 10**9)}", KEY),
                               lines=[SettledLine(line=1, product="XA01AAA0101", quantity=1, boxes_required=1, codes=1)])
        else:
            event = Heartbeat(**common, version="0.1.0", outbox_depth=rng.randint(0, 50), outbox_capacity=1_000_000,
                              scanners=[DeviceHealth(name="serial0", health=Health.OK)])
        events.append(seal(event))
    return events
