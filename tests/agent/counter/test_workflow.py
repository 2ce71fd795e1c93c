"""Document operations: lines, override, settlement, finish, cancel, and the stored state."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.counter import (
    CounterError, DocKind, DocStatus, MessageCode, add_line, cancel, decode_state, encode_state, finish, may_settle,
    open_document, override, scan, settle,
)
from agent.counter.messages import _TEXTS
from drugtrace.codes import classify
from drugtrace.events import Override, Payment, Sale, SaleReturn, SettledLine, Settlement
from drugtrace.wire import seal
from tests.agent.counter.helpers import AMOX, HERB, IBU, OLD, context, nmpa


def test_every_message_code_has_both_languages() -> None:
    assert set(_TEXTS) == set(MessageCode)


def _sale_with_lines():
    doc = open_document(DocKind.SALE, "D1", context())
    doc = add_line(doc, AMOX, quantity=2, price_fen=1500)
    doc = add_line(doc, HERB, quantity=30, price_fen=90)
    return add_line(doc, IBU, quantity=5, price_fen=300, trdn_flag=1)


def test_may_settle_lists_missing_boxes_per_line() -> None:
    doc = _sale_with_lines()
    message, missing = may_settle(doc)
    assert message.code is MessageCode.MISSING_CODES and message.message_zh.endswith("第1(2)、3(1)行（括号内为缺少的盒数）。")
    assert [(m.line, m.boxes_required, m.codes, m.missing) for m in missing] == [(1, 2, 0, 2), (3, 1, 0, 1)]
    doc = scan(doc, classify(nmpa("8123456", 1)), context()).document
    assert [m.missing for m in may_settle(doc)[1]] == [1, 1]


def test_insurance_settlement_is_refused_while_codes_are_missing() -> None:
    with pytest.raises(CounterError) as info:
        settle(_sale_with_lines(), context(), setl_id="S1", payment=Payment.INSURANCE, total_fen=5000, person="p_x")
    assert info.value.code is MessageCode.MISSING_CODES and len(info.value.detail) == 2


def test_override_records_the_gap_and_settlement_still_shows_it() -> None:
    doc = _sale_with_lines()
    doc = scan(doc, classify(nmpa("8123456", 1)), context()).document
    doc = scan(doc, classify(nmpa("8234567", 1)), context()).document
    step = override(doc, 1, "标签破损", "op7", context())
    (event,) = step.events
    assert isinstance(event, Override) and (event.line, event.missing, event.reason, event.operator) == (
        1, 1, "标签破损", "op7")
    result = settle(step.document, context(), setl_id="S1", payment=Payment.INSURANCE, total_fen=5000,
                    fund_fen=4000, person="p_x")
    herbal_sale, settlement = result.events
    assert isinstance(herbal_sale, Sale) and herbal_sale.code is None and herbal_sale.units == 30
    assert isinstance(settlement, Settlement) and settlement.lines == [
        SettledLine(line=1, product="XA01", quantity=2, boxes_required=2, codes=1, overridden=True),
        SettledLine(line=2, product="ZA01", quantity=30, boxes_required=0, codes=0, exempt=True),
        SettledLine(line=3, product="XB02", quantity=5, boxes_required=1, codes=1),
    ]
    assert result.document is not None and result.document.status is DocStatus.SETTLED
    for event in result.events:
        seal(event)  # valid on the wire


@pytest.mark.parametrize(("reason", "operator"), [("", "op7"), ("标签破损", ""), ("   ", "op7"), ("x" * 201, "op7")])
def test_override_needs_reason_and_operator(reason: str, operator: str) -> None:
    with pytest.raises(CounterError) as info:
        override(_sale_with_lines(), 1, reason, operator, context())
    assert info.value.code is MessageCode.OVERRIDE_NEEDS_REASON


def test_override_of_a_complete_or_exempt_line_is_refused() -> None:
    with pytest.raises(CounterError) as info:
        override(_sale_with_lines(), 2, "r", "op", context())
    assert info.value.code is MessageCode.NOTHING_TO_OVERRIDE


def test_self_pay_settles_with_the_gap_recorded() -> None:
    step = settle(_sale_with_lines(), context(), setl_id="S2", payment=Payment.SELF_PAY, total_fen=5000)
    settlement = step.events[-1]
    assert isinstance(settlement, Settlement) and [line.codes for line in settlement.lines] == [0, 0, 0]
    assert not any(line.overridden for line in settlement.lines)


def test_no_code_list_products_are_exempt() -> None:
    doc = add_line(open_document(DocKind.SALE, "D1", context()), OLD, quantity=3, price_fen=100)
    assert may_settle(doc)[0].code is MessageCode.SETTLE_ALLOWED


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"payment": Payment.INSURANCE, "total_fen": 100, "fund_fen": 200, "person": "p"}, MessageCode.BAD_AMOUNTS),
    ({"payment": Payment.SELF_PAY, "total_fen": 100, "fund_fen": 50}, MessageCode.BAD_AMOUNTS),
    ({"payment": Payment.INSURANCE, "total_fen": 100, "fund_fen": 50}, MessageCode.PERSON_REQUIRED),
])
def test_settlement_input_is_checked(kwargs: dict, code: MessageCode) -> None:
    doc = add_line(open_document(DocKind.SALE, "D1", context()), OLD, quantity=1)
    with pytest.raises(CounterError) as info:
        settle(doc, context(), setl_id="S", **kwargs)
    assert info.value.code is code


def test_split_pack_line_must_be_less_than_a_box() -> None:
    with pytest.raises(CounterError) as info:
        add_line(open_document(DocKind.SALE, "D1", context()), AMOX, quantity=24, trdn_flag=1)
    assert info.value.code is MessageCode.SPLIT_PACK_NOT_ALLOWED


def test_settled_document_cannot_change() -> None:
    doc = add_line(open_document(DocKind.SALE, "D1", context()), OLD, quantity=1)
    done = settle(doc, context(), setl_id="S", payment=Payment.SELF_PAY, total_fen=1).document
    with pytest.raises(CounterError) as info:
        add_line(done, OLD, quantity=1)
    assert info.value.code is MessageCode.DOCUMENT_NOT_OPEN


def test_sale_is_finished_only_by_settling_or_cancelling() -> None:
    with pytest.raises(CounterError) as info:
        finish(_sale_with_lines())
    assert info.value.code is MessageCode.MUST_SETTLE
    receipt = open_document(DocKind.RECEIPT, "R1", context(), supplier="s", invoice="i")
    assert finish(receipt).status is DocStatus.CLOSED


def test_cancelling_a_sale_returns_its_codes_to_stock() -> None:
    doc = scan(_sale_with_lines(), classify(nmpa("8123456", 1)), context()).document
    step = cancel(doc, context())
    (event,) = step.events
    assert isinstance(event, SaleReturn) and event.original_doc == "D1" and event.code.key == nmpa("8123456", 1)
    assert step.document is not None and step.document.status is DocStatus.CANCELLED


def test_sale_return_needs_the_original_document() -> None:
    with pytest.raises(CounterError) as info:
        open_document(DocKind.SALE_RETURN, "R1", context())
    assert info.value.code is MessageCode.BAD_REQUEST


def test_state_round_trips() -> None:
    doc = scan(_sale_with_lines(), classify(nmpa("8123456", 1)), context()).document
    doc = override(doc, 3, "扫码枪故障", "op1", context()).document
    assert decode_state(encode_state(doc)) == doc


# -- properties over any sequence of scans ------------------------------------------------------------

SCANS = st.one_of(
    st.builds(lambda n: nmpa("8123456", n), st.integers(0, 6)),  # AMOX boxes (repeats happen)
    st.builds(lambda n: nmpa("8234567", n), st.integers(0, 3)),  # IBU
    st.builds(lambda n: nmpa("8999999", n), st.integers(0, 3)),  # a product not billed: 串换
    st.just("6901234567892"),  # commodity barcode
    st.text(max_size=30),  # noise
)


@settings(max_examples=150, deadline=None)
@given(amox=st.integers(1, 4), ibu_units=st.integers(1, 19), scans=st.lists(SCANS, max_size=14),
       override_line=st.sampled_from([None, 1, 2]))
def test_insurance_settles_iff_every_required_box_has_a_code_or_an_override(
        amox: int, ibu_units: int, scans: list[str], override_line: int | None) -> None:
    doc = open_document(DocKind.SALE, "D1", context())
    doc = add_line(doc, AMOX, quantity=amox)
    doc = add_line(doc, IBU, quantity=ibu_units, trdn_flag=1)
    doc = add_line(doc, HERB, quantity=10)
    ctx = context()
    accepted: set[str] = set()
    for raw in scans:
        step = scan(doc, classify(raw), ctx)
        assert step.outcome is not None
        if step.outcome.accepted:
            assert step.outcome.key not in accepted  # never the same code twice
            accepted.add(step.outcome.key)
            assert len(step.events) == 1
        else:
            assert len(step.events) == (0 if step.outcome.code is MessageCode.DUPLICATE_IN_DOCUMENT else 1)
            assert step.document == doc
        doc = step.document  # type: ignore[assignment]
    assert all(len(line.codes) <= line.boxes for line in doc.lines)
    if override_line is not None and doc.line(override_line).missing:
        doc = override(doc, override_line, "扫码枪故障", "op1", ctx).document  # type: ignore[assignment]
    amox_line, ibu_line = doc.line(1), doc.line(2)
    complete = ((len(amox_line.codes) == amox or amox_line.override is not None)
                and (len(ibu_line.codes) == 1 or ibu_line.override is not None))
    try:
        step = settle(doc, ctx, setl_id="S1", payment=Payment.INSURANCE, total_fen=100, person="p_1")
    except CounterError as exc:
        assert not complete and exc.code is MessageCode.MISSING_CODES
    else:
        assert complete
        settlement = step.events[-1]
        assert isinstance(settlement, Settlement)
        assert sum(line.codes for line in settlement.lines) == len(accepted)
