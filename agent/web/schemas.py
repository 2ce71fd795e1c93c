"""Request bodies of the POS API, validated by msgspec (unknown fields refused, limits enforced)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta, Struct

from agent.counter import DocKind
from drugtrace.events import Payment, StockChangeKind

Short = Annotated[str, Meta(max_length=64)]
Text = Annotated[str, Meta(max_length=200)]
Fen = Annotated[int, Meta(ge=0, le=10**12)]


class OpenDocument(Struct, forbid_unknown_fields=True):
    kind: DocKind
    supplier: Text = ""
    invoice: Text = ""
    change: StockChangeKind = StockChangeKind.OTHER
    reason: Text = ""
    original_doc: Short = ""  # sale return: the original sale's doc id
    setl_id: Short | None = None  # sale return: the original settlement id
    activate: bool = True  # device scans go to this document from now on


class AddLine(Struct, forbid_unknown_fields=True):
    product: Annotated[str, Meta(min_length=1, max_length=64)]  # med_list_codg
    quantity: Annotated[int, Meta(ge=1, le=100_000)]
    price_fen: Fen = 0
    trdn_flag: Annotated[int, Meta(ge=0, le=1)] = 0
    rx: bool = False
    batch: Annotated[str, Meta(max_length=20)] | None = None
    expiry: dt.date | None = None


class AddScan(Struct, forbid_unknown_fields=True):
    raw: Annotated[str, Meta(min_length=1, max_length=4096)]
    line: Annotated[int, Meta(ge=1)] | None = None


class Settle(Struct, forbid_unknown_fields=True):
    setl_id: Annotated[str, Meta(min_length=1, max_length=64)]
    payment: Payment
    total_fen: Fen
    fund_fen: Fen = 0
    psn_no: Short | None = None  # pseudonymised at once; never stored


class OverrideLine(Struct, forbid_unknown_fields=True):
    line: Annotated[int, Meta(ge=1)]
    reason: Annotated[str, Meta(min_length=1, max_length=200)]
    operator: Annotated[str, Meta(min_length=1, max_length=64)]


class PageScan(Struct, forbid_unknown_fields=True):
    raw: Annotated[str, Meta(max_length=4096)]
