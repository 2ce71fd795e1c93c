"""Small builders for collector tests: events of a code, MQTT messages, a ledger in tmp_path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from collector.ingest.decode import Message
from drugtrace.events import AnyEvent, Code, CodeKind, Payment, Receipt, Sale, SaleReturn, SettledLine, Settlement
from drugtrace.ids import uuid7
from drugtrace.wire import encode_batch, seal

TZ = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
COUNTY = "C1"
BOX = Code(key="81234567890123456789", kind=CodeKind.NMPA, product_key="8123456")


def box(n: int) -> Code:
    """The n-th of a run of box codes other than BOX."""
    return Code(key=f"8123456789012346{n:04d}", kind=CodeKind.NMPA, product_key="8123456")


def receipt(store: str, seq: int, minutes: int, code: Code = BOX) -> AnyEvent:
    return seal(Receipt(id=uuid7(), store=store, doc=f"R{seq}", seq=seq, at=T0 + dt.timedelta(minutes=minutes),
                        supplier="国药控股", invoice=f"INV{seq}", product="XA01", code=code))


def sale(store: str, seq: int, minutes: int, code: Code = BOX, doc: str | None = None) -> AnyEvent:
    return seal(Sale(id=uuid7(), store=store, doc=doc or f"D{seq}", seq=seq, at=T0 + dt.timedelta(minutes=minutes),
                     line=1, product="XA01", code=code, price_fen=1200))


def sale_return(store: str, seq: int, minutes: int, original_doc: str, code: Code = BOX) -> AnyEvent:
    return seal(SaleReturn(id=uuid7(), store=store, doc=f"SR{seq}", seq=seq, at=T0 + dt.timedelta(minutes=minutes),
                           original_doc=original_doc, product="XA01", code=code))


def settlement(store: str, seq: int, minutes: int, doc: str, payment: Payment = Payment.INSURANCE) -> AnyEvent:
    """One box of XA01 paid for sale document `doc`."""
    return seal(Settlement(id=uuid7(), store=store, doc=doc, seq=seq, at=T0 + dt.timedelta(minutes=minutes),
                           setl_id=f"SETL{seq}", payment=payment, total_fen=1200, fund_fen=900, person="p1",
                           lines=[SettledLine(line=1, product="XA01", quantity=1, boxes_required=1, codes=1)]))


def message(store: str, events: list[AnyEvent], county: str = COUNTY, topic_store: str | None = None) -> Message:
    return Message(f"drugtrace/{county}/{topic_store or store}/events", encode_batch(store, events),
                   T0 + dt.timedelta(hours=1))


def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"
