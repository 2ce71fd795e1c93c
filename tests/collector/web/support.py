"""A small county for dashboard tests, built by REAL ingest (LedgerService) into a real SQLite ledger."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from collector.ingest.decode import Message
from collector.ledger_service import LedgerService
from collector.rules import RuleSettings
from collector.store.sqlite import SQLiteLedger
from drugtrace.events import (
    AnyEvent, Code, CodeKind, DeviceHealth, Health, Heartbeat, Payment, Receipt, Sale, SettledLine, Settlement,
)
from drugtrace.ids import uuid7
from drugtrace.wire import encode_batch, seal
from tests.collector.helpers import BOX, COUNTY, T0

CODE2 = Code(key="81234567890123450002", kind=CodeKind.NMPA, product_key="8123456")
NOW = T0 + dt.timedelta(hours=1, minutes=5)
RECEIVED = T0 + dt.timedelta(hours=1)
PASSWORDS = {"admin": "admin-password-1", "li.auditor": "auditor-password-1", "wang.viewer": "viewer-password-1"}


class Clock:
    """The dashboard's clock, moved by tests."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def receipt(store: str, seq: int, minutes: float, code: Code = BOX, doc: str | None = None) -> AnyEvent:
    return seal(Receipt(id=uuid7(), store=store, doc=doc or f"R{seq}", seq=seq, at=at(minutes), supplier="国药控股",
                        invoice=f"INV{seq}", product="XA01", code=code))


def sale(store: str, seq: int, minutes: float, code: Code | None = BOX, doc: str | None = None) -> AnyEvent:
    return seal(Sale(id=uuid7(), store=store, doc=doc or f"D{seq}", seq=seq, at=at(minutes), line=1, product="XA01",
                     code=code, price_fen=1200))


def settlement(store: str, seq: int, minutes: float, doc: str, required: int, codes: int, *, exempt: bool = False,
               overridden: bool = False, payment: Payment = Payment.INSURANCE) -> AnyEvent:
    line = SettledLine(line=1, product="XA01", quantity=required, boxes_required=required, codes=codes, exempt=exempt,
                       overridden=overridden)
    return seal(Settlement(id=uuid7(), store=store, doc=doc, seq=seq, at=at(minutes), setl_id=f"SETL-{store}-{seq}",
                           payment=payment, total_fen=2400, fund_fen=2000, person="p" * 16, lines=[line]))


def heartbeat(store: str, seq: int, minutes: float, depth: int = 7) -> AnyEvent:
    return seal(Heartbeat(id=uuid7(), store=store, seq=seq, at=at(minutes), version="0.1.0", outbox_depth=depth,
                          outbox_capacity=100000, last_upload=at(minutes - 0.5),
                          scanners=[DeviceHealth(name="scanner-usb0", health=Health.OK)],
                          cameras=[DeviceHealth(name="counter-cam", health=Health.COVERED, detail="lens covered",
                                                gaps=2)]))


def message(store: str, events: list[AnyEvent]) -> Message:
    return Message(f"drugtrace/{COUNTY}/{store}/events", encode_batch(store, events), RECEIVED)


def status(store: str, state: str) -> Message:
    return Message(f"drugtrace/{COUNTY}/{store}/status",
                   f'{{"state": "{state}", "at": "{at(30).isoformat()}"}}'.encode(), RECEIVED)


def ingest(path: Path, messages: list[Message], now: dt.datetime = RECEIVED) -> None:
    ledger = SQLiteLedger(path)
    try:
        LedgerService(ledger, COUNTY, RuleSettings()).ingest(messages, now)
    finally:
        ledger.close()


@dataclass
class County:
    """What `populate` stored, for assertions."""

    events: dict[str, AnyEvent] = field(default_factory=dict)


def populate(path: Path) -> County:
    """S1 receives and sells BOX, S2 sells it again (sold at two stores); S1 sells CODE2 twice (sold twice at one
    store); S1 settles 2 boxes with 1 code (collection 50 %); S1 heartbeats; S3 is offline (last will)."""
    c = County()
    c.events = {
        "s1_receipt": receipt("S1", 1, 0), "s1_sale": sale("S1", 2, 10), "s2_sale": sale("S2", 1, 20),
        "s1_receipt2": receipt("S1", 3, 1, CODE2), "s1_sale2a": sale("S1", 4, 30, CODE2, doc="D4"),
        "s1_sale2b": sale("S1", 5, 40, CODE2, doc="D5"),
        "s1_settle": settlement("S1", 6, 41, "D5", required=2, codes=1),
        "s1_beat": heartbeat("S1", 7, 59),
    }
    e = c.events
    ingest(path, [message("S1", [e["s1_receipt"], e["s1_sale"], e["s1_receipt2"], e["s1_sale2a"], e["s1_sale2b"],
                                 e["s1_settle"], e["s1_beat"]]),
                  message("S2", [e["s2_sale"]]), status("S3", "offline"), status("S1", "online")])
    return c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF token"
    return found.group(1)
