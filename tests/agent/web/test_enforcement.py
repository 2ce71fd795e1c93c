"""Every rule of DOMAIN §3, enforced through the POS API against a real SQLite outbox."""

from __future__ import annotations

from drugtrace.events import Override, Sale, SaleReturn, ScanRefused, SettledLine, Settlement
from drugtrace.pseudonym import pseudonymise
from tests.agent.counter.helpers import KEY, nmpa
from tests.agent.web.conftest import Pos

GS = "\x1d"
A1, A2, A3 = (nmpa("8123456", n) for n in (1, 2, 3))
INSURANCE = {"setl_id": "SETL-1", "payment": "insurance", "total_fen": 4600, "fund_fen": 3000,
             "psn_no": "420106199001011234"}


def test_one_code_per_whole_box_before_insurance_settlement(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "XA01", 2, price_fen=2300)
    check = pos.call("GET", f"/documents/{doc}/settle-check", status=200)
    assert check["allowed"] is False and check["code"] == "missing_codes"
    assert [(m["line"], m["missing"]) for m in check["missing"]] == [(1, 2)]
    refused = pos.call("POST", f"/documents/{doc}/settlement", INSURANCE, 409)["error"]
    assert refused["code"] == "missing_codes" and refused["missing"][0]["missing"] == 2 and "第1(2)行" in refused["message"]
    assert pos.scan(doc, A1)["accepted"] and pos.scan(doc, A2)["accepted"]
    assert pos.call("GET", f"/documents/{doc}/settle-check", status=200)["allowed"] is True
    settled = pos.call("POST", f"/documents/{doc}/settlement", INSURANCE, 200)["document"]
    assert settled["status"] == "settled"
    sales = [e for e in pos.events() if isinstance(e, Sale)]
    assert [(s.code.key, s.trdn_flag) for s in sales] == [(A1, 0), (A2, 0)]  # type: ignore[union-attr]


def test_split_pack_line_needs_the_opened_boxs_code(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "XA01", 6, trdn_flag=1, price_fen=600)
    assert pos.call("GET", f"/documents/{doc}/settle-check")["missing"][0]["missing"] == 1
    assert pos.scan(doc, A1)["accepted"]
    assert pos.scan(doc, A2)["code"] == "line_full"
    pos.call("POST", f"/documents/{doc}/settlement", INSURANCE, 200)
    sale = next(e for e in pos.events() if isinstance(e, Sale))
    assert (sale.trdn_flag, sale.units, sale.units_per_box) == (1, 6, 24)
    too_many = pos.call("POST", f"/documents/{pos.open()}/lines", {"product": "XA01", "quantity": 24, "trdn_flag": 1},
                        422)
    assert too_many["error"]["code"] == "split_pack_not_allowed"


def test_exempt_products_settle_without_codes(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "ZA01", 30, price_fen=50)  # 中药饮片
    pos.line(doc, "XC03", 2, price_fen=800)  # on the no-code list (无码库)
    assert pos.call("GET", f"/documents/{doc}/settle-check")["allowed"] is True
    pos.call("POST", f"/documents/{doc}/settlement", INSURANCE, 200)
    settlement = pos.events()[-1]
    assert isinstance(settlement, Settlement)
    assert [(line.exempt, line.boxes_required) for line in settlement.lines] == [(True, 0), (True, 0)]


def test_override_needs_reason_and_operator_and_never_hides_the_gap(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "XA01", 3)
    pos.scan(doc, A1)
    assert pos.call("POST", f"/documents/{doc}/overrides", {"line": 1, "reason": "", "operator": "op7"},
                    400)["error"]["code"] == "bad_request"
    assert pos.call("POST", f"/documents/{doc}/overrides", {"line": 1, "reason": "  ", "operator": "op7"},
                    422)["error"]["code"] == "override_needs_reason"
    assert pos.call("POST", f"/documents/{doc}/overrides", {"line": 1, "reason": "标签破损"},
                    400)["error"]["code"] == "bad_request"
    pos.call("POST", f"/documents/{doc}/overrides", {"line": 1, "reason": "标签破损", "operator": "op7"}, 201)
    pos.call("POST", f"/documents/{doc}/settlement", INSURANCE, 200)
    events = pos.events()
    override = next(e for e in events if isinstance(e, Override))
    assert (override.missing, override.reason, override.operator) == (2, "标签破损", "op7")
    settlement = events[-1]
    assert isinstance(settlement, Settlement) and settlement.lines == [
        SettledLine(line=1, product="XA01", quantity=3, boxes_required=3, codes=1, overridden=True)]


def test_product_mismatch_is_refused_and_reported(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "XA01", 1)
    outcome = pos.scan(doc, nmpa("8234567", 5))  # a 布洛芬 code on an 阿莫西林 line: 串换
    assert outcome["accepted"] is False and outcome["code"] == "product_mismatch" and "串换" in outcome["message"]
    (event,) = pos.events()
    assert isinstance(event, ScanRefused) and event.problem == "product_mismatch" and event.product == "XA01"
    assert event.code is not None and event.code.product_key == "8234567"


def test_same_code_twice_in_a_document_is_a_warning_not_an_event(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "XA01", 2)
    pos.scan(doc, A1)
    again = pos.scan(doc, A1)
    assert again["verdict"] == "warning" and again["code"] == "duplicate_in_document" and not again["accepted"]
    assert len(pos.events()) == 1


def test_code_already_sold_here_is_refused_in_a_later_sale(pos: Pos) -> None:
    first = pos.open()
    pos.line(first, "XA01", 1)
    pos.scan(first, A1)
    pos.call("POST", f"/documents/{first}/settlement", INSURANCE, 200)
    second = pos.open()
    pos.line(second, "XA01", 1)
    outcome = pos.scan(second, A1)
    assert outcome["code"] == "already_sold_here" and "已在本店售出" in outcome["message"]
    assert isinstance(pos.events()[-1], ScanRefused)


def test_commodity_barcode_is_refused_with_the_domain_sentence_and_counted(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "XA01", 1)
    outcome = pos.scan(doc, "6901234567892")
    assert outcome["code"] == "commodity_barcode" and outcome["message"].startswith("这是商品条码，不是追溯码")
    pos.scan(doc, "6901234567892")
    refused = [e for e in pos.events() if isinstance(e, ScanRefused)]
    assert [e.problem for e in refused] == ["commodity_barcode", "commodity_barcode"]


def test_expired_gs1_expiry_warns_at_receipt_and_blocks_at_sale(pos: Pos) -> None:
    expired = f"]d2010950110153000317251031{GS}21SER9"  # (17) 2025-10-31; the clock says 2026-11-23
    receipt = pos.open("receipt", supplier="国药控股湖北", invoice="INV-77")
    pos.line(receipt, "XA01", 1)
    warned = pos.scan(receipt, expired)
    assert warned["accepted"] and warned["verdict"] == "warning" and warned["code"] == "expired_at_receipt"
    pos.call("POST", f"/documents/{receipt}/finish", status=200)
    sale = pos.open()
    pos.line(sale, "XA01", 1)
    blocked = pos.scan(sale, expired)
    assert not blocked["accepted"] and blocked["code"] == "expired" and "2025-10-31" in blocked["message"]


def test_unclassified_codes_are_kept_and_reported(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "XA01", 1)
    outcome = pos.scan(doc, "ABC-123-XYZ")
    assert outcome["code"] == "not_a_trace_code" and not outcome["accepted"]
    (event,) = pos.events()
    assert isinstance(event, ScanRefused) and event.raw == "ABC-123-XYZ" and event.problem == "unknown_format"


def test_sale_return_references_the_original_sale_and_restocks_the_code(pos: Pos) -> None:
    sale = pos.open()
    pos.line(sale, "XA01", 1)
    pos.scan(sale, A1)
    pos.call("POST", f"/documents/{sale}/settlement", INSURANCE, 200)
    back = pos.open("sale_return", original_doc=sale, setl_id="SETL-1")
    pos.line(back, "XA01", 1)
    assert pos.scan(back, A2)["code"] == "not_sold_here"
    assert pos.scan(back, A1)["accepted"]
    pos.call("POST", f"/documents/{back}/finish", status=200)
    returned = next(e for e in pos.events() if isinstance(e, SaleReturn))
    assert (returned.original_doc, returned.setl_id, returned.code.key) == (sale, "SETL-1", A1)
    resale = pos.open()
    pos.line(resale, "XA01", 1)
    assert pos.scan(resale, A1)["accepted"]


def test_settlement_pseudonymises_the_insured_person(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "ZA01", 10)
    body = pos.call("POST", f"/documents/{doc}/settlement", INSURANCE, 200)
    assert body["document"]["settlement"]["person"] == pseudonymise(INSURANCE["psn_no"], KEY)
    assert INSURANCE["psn_no"] not in str(body)
    assert pos.call("POST", f"/documents/{pos.open()}/settlement", {**INSURANCE, "psn_no": None},
                    422)["error"]["code"] in ("person_required", "empty_document")


def test_insurance_needs_a_person_and_self_pay_records_the_gap(pos: Pos) -> None:
    doc = pos.open()
    pos.line(doc, "XA01", 2)
    no_person = pos.call("POST", f"/documents/{doc}/settlement", {**INSURANCE, "psn_no": None}, 422)
    assert no_person["error"]["code"] == "person_required"
    self_pay = {"setl_id": "SP-1", "payment": "self_pay", "total_fen": 4600}
    pos.call("POST", f"/documents/{doc}/settlement", self_pay, 200)
    settlement = pos.events()[-1]
    assert isinstance(settlement, Settlement) and settlement.lines[0].codes == 0
    assert settlement.lines[0].boxes_required == 2 and settlement.person is None
