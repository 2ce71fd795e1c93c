"""The local checks of DOMAIN §3 on one scan, as pure values."""

from __future__ import annotations

import pytest

from agent.counter import (
    CounterError, DocKind, Document, MessageCode, Verdict, add_line, open_document, scan, scan_without_document,
)
from agent.ports import LocalCodeState
from drugtrace.codes import classify
from drugtrace.events import Receipt, Sale, SaleReturn, ScanRefused
from tests.agent.counter.helpers import AMOX, HERB, IBU, context, nmpa

GS = "\x1d"


def sale(*lines: tuple, kind: DocKind = DocKind.SALE, **header: str) -> Document:
    doc = open_document(kind, "D1", context(), **header)
    for product, quantity, trdn in lines:
        doc = add_line(doc, product, quantity=quantity, price_fen=1200, trdn_flag=trdn)
    return doc


def test_accepted_code_goes_on_the_matching_line_as_one_sale_event() -> None:
    doc = sale((IBU, 1, 0), (AMOX, 2, 0))
    step = scan(doc, classify(nmpa("8123456", 1)), context())
    assert step.outcome is not None and step.outcome.verdict is Verdict.ACCEPTED and step.outcome.line == 2
    assert step.document is not None and [len(line.codes) for line in step.document.lines] == [0, 1]
    (event,) = step.events
    assert isinstance(event, Sale)
    assert (event.line, event.product, event.code.key, event.trdn_flag, event.price_fen, event.doc) == (
        2, "XA01", nmpa("8123456", 1), 0, 1200, "D1")


def test_gs1_code_matches_by_gtin() -> None:
    step = scan(sale((AMOX, 1, 0)), classify(f"]d2010950110153000317291231{GS}21SER1"), context())
    assert step.outcome is not None and step.outcome.accepted
    assert step.events[0].code.key == "(01)09501101530003(21)SER1"


def test_same_code_twice_is_a_warning_without_an_event() -> None:
    first = scan(sale((AMOX, 2, 0)), classify(nmpa("8123456", 1)), context())
    again = scan(first.document, classify(nmpa("8123456", 1)), context())
    assert again.outcome is not None and again.outcome.code is MessageCode.DUPLICATE_IN_DOCUMENT
    assert again.outcome.verdict is Verdict.WARNING and not again.outcome.accepted
    assert again.events == () and again.document == first.document


@pytest.mark.parametrize(("raw", "code", "problem"), [
    pytest.param("6901234567892", MessageCode.COMMODITY_BARCODE, "commodity_barcode", id="commodity"),
    pytest.param("HELLO-WORLD", MessageCode.NOT_A_TRACE_CODE, "unknown_format", id="unclassified"),
    pytest.param("0109501101530003", MessageCode.NOT_A_TRACE_CODE, "gs1_no_serial", id="gs1-no-serial"),
])
def test_non_codes_are_refused_and_reported(raw: str, code: MessageCode, problem: str) -> None:
    step = scan(sale((AMOX, 1, 0)), classify(raw), context())
    assert step.outcome is not None and step.outcome.code is code and step.outcome.verdict is Verdict.REFUSED
    (event,) = step.events
    assert isinstance(event, ScanRefused) and event.problem == problem and event.raw == raw


def test_commodity_message_is_the_domain_sentence() -> None:
    step = scan(sale((AMOX, 1, 0)), classify("6901234567892"), context())
    assert step.outcome is not None and step.outcome.message.message_zh.startswith("这是商品条码，不是追溯码")


def test_product_mismatch_is_refused_as_chuanhuan_naming_the_billed_product() -> None:
    step = scan(sale((AMOX, 1, 0)), classify(nmpa("8234567", 9)), context())
    assert step.outcome is not None and step.outcome.code is MessageCode.PRODUCT_MISMATCH
    (event,) = step.events
    assert isinstance(event, ScanRefused) and event.product == "XA01" and event.code.product_key == "8234567"
    assert "串换" in event.message and step.document is not None and step.document.code_count == 0


def test_mismatch_against_an_explicit_line() -> None:
    step = scan(sale((AMOX, 1, 0), (IBU, 1, 0)), classify(nmpa("8123456", 1)), context(), line_number=2)
    assert step.outcome is not None and step.outcome.code is MessageCode.PRODUCT_MISMATCH and step.outcome.line == 2


def test_unknown_explicit_line_is_the_callers_error() -> None:
    with pytest.raises(CounterError) as info:
        scan(sale((AMOX, 1, 0)), classify(nmpa("8123456", 1)), context(), line_number=7)
    assert info.value.code is MessageCode.UNKNOWN_LINE


def test_more_codes_than_boxes_is_refused() -> None:
    step = scan(sale((AMOX, 1, 0)), classify(nmpa("8123456", 1)), context())
    full = scan(step.document, classify(nmpa("8123456", 2)), context())
    assert full.outcome is not None and full.outcome.code is MessageCode.LINE_FULL
    assert isinstance(full.events[0], ScanRefused)


def test_split_pack_line_takes_the_one_opened_box() -> None:
    step = scan(sale((AMOX, 6, 1)), classify(nmpa("8123456", 1)), context())
    event = step.events[0]
    assert isinstance(event, Sale) and (event.trdn_flag, event.units, event.units_per_box) == (1, 6, 24)
    again = scan(step.document, classify(nmpa("8123456", 2)), context())
    assert again.outcome is not None and again.outcome.code is MessageCode.LINE_FULL


@pytest.mark.parametrize(("state", "trdn", "code"), [
    pytest.param(LocalCodeState.SOLD, 0, MessageCode.ALREADY_SOLD_HERE, id="sold-whole"),
    pytest.param(LocalCodeState.SOLD, 1, MessageCode.ALREADY_SOLD_HERE, id="sold-split"),
    pytest.param(LocalCodeState.OPENED, 0, MessageCode.OPENED_BOX_WHOLE_SALE, id="opened-whole"),
    pytest.param(LocalCodeState.DESTROYED, 0, MessageCode.NOT_IN_STOCK, id="destroyed"),
])
def test_sale_refuses_codes_this_store_cannot_sell(state: LocalCodeState, trdn: int, code: MessageCode) -> None:
    key = nmpa("8123456", 1)
    step = scan(sale((AMOX, 3 if trdn else 1, trdn)), classify(key), context({key: state}))
    assert step.outcome is not None and step.outcome.code is code and isinstance(step.events[0], ScanRefused)


@pytest.mark.parametrize("state", [None, LocalCodeState.IN_STOCK, LocalCodeState.RETURNED])
def test_sale_accepts_codes_in_stock_or_unknown(state: LocalCodeState | None) -> None:
    key = nmpa("8123456", 1)
    step = scan(sale((AMOX, 1, 0)), classify(key), context({key: state} if state else None))
    assert step.outcome is not None and step.outcome.accepted


def test_split_pack_sale_continues_an_opened_box() -> None:
    key = nmpa("8123456", 1)
    step = scan(sale((AMOX, 3, 1)), classify(key), context({key: LocalCodeState.OPENED}))
    assert step.outcome is not None and step.outcome.accepted


EXPIRED = f"]d2010950110153000317251031{GS}21SER9"  # (17) 2025-10-31, before NOW


def test_expired_box_is_blocked_at_sale() -> None:
    step = scan(sale((AMOX, 1, 0)), classify(EXPIRED), context())
    assert step.outcome is not None and step.outcome.code is MessageCode.EXPIRED
    assert "2025-10-31" in step.outcome.message.message_zh and isinstance(step.events[0], ScanRefused)


def test_expired_box_is_a_warning_at_receipt() -> None:
    doc = sale((AMOX, 1, 0), kind=DocKind.RECEIPT, supplier="国药控股", invoice="INV1")
    step = scan(doc, classify(EXPIRED), context())
    assert step.outcome is not None and step.outcome.verdict is Verdict.WARNING and step.outcome.accepted
    assert step.outcome.code is MessageCode.EXPIRED_AT_RECEIPT
    event = step.events[0]
    assert isinstance(event, Receipt) and event.supplier == "国药控股" and event.code.expiry.isoformat() == "2025-10-31"


def test_receipt_refuses_a_code_already_in_stock_and_reports_one_sold_here() -> None:
    doc = sale((AMOX, 2, 0), kind=DocKind.RECEIPT, supplier="s", invoice="i")
    in_stock, sold = nmpa("8123456", 1), nmpa("8123456", 2)
    ctx = context({in_stock: LocalCodeState.IN_STOCK, sold: LocalCodeState.SOLD})
    assert scan(doc, classify(in_stock), ctx).outcome.code is MessageCode.ALREADY_IN_STOCK
    step = scan(doc, classify(sold), ctx)
    # accepted with a warning and uploaded as a Receipt: the collector judges late receipt vs 回流 (rule 4)
    assert step.outcome.code is MessageCode.RECEIVED_AFTER_SALE_HERE and step.outcome.accepted
    assert [type(e).__name__ for e in step.events] == ["Receipt"] and step.events[0].code.key == sold


def test_sale_return_takes_only_codes_sold_here() -> None:
    doc = sale((AMOX, 2, 0), kind=DocKind.SALE_RETURN, original_doc="D0")
    sold, never = nmpa("8123456", 1), nmpa("8123456", 2)
    ctx = context({sold: LocalCodeState.SOLD})
    accepted = scan(doc, classify(sold), ctx)
    assert isinstance(accepted.events[0], SaleReturn) and accepted.events[0].original_doc == "D0"
    refused = scan(doc, classify(never), ctx)
    assert refused.outcome is not None and refused.outcome.code is MessageCode.NOT_SOLD_HERE


def test_exempt_line_accepts_no_mismatched_code_but_needs_none() -> None:
    doc = sale((HERB, 3, 0))
    assert doc.lines[0].boxes_required == 0 and doc.lines[0].ready


def test_scan_with_no_lines_is_refused_and_reported() -> None:
    step = scan(sale(), classify(nmpa("8123456", 1)), context())
    assert step.outcome is not None and step.outcome.code is MessageCode.NO_LINES and len(step.events) == 1


def test_scan_without_document_is_reported_with_an_empty_doc() -> None:
    step = scan_without_document(classify(nmpa("8123456", 1)), context())
    assert step.outcome is not None and step.outcome.code is MessageCode.NO_OPEN_DOCUMENT
    (event,) = step.events
    assert isinstance(event, ScanRefused) and event.doc == "" and event.code.key == nmpa("8123456", 1)


def test_overlong_raw_text_is_cut_to_the_wire_limit_not_dropped() -> None:
    step = scan(sale((AMOX, 1, 0)), classify("X" * 500), context())
    assert len(step.events[0].raw) == 128
