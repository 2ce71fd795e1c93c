"""Rules 1-8 on one code's history: exact hits, and the negative cases that must stay silent."""

from __future__ import annotations

import datetime as dt

import pytest

from collector.rules import DEFAULT_SETTINGS, Hit, Rule, RuleSettings, Severity, evaluate_code, recheck_at
from collector.rules.errors import RuleInputError
from drugtrace.events import Payment, StockChangeKind
from tests.collector.rules.builders import (
    CODE, PRODUCT, purchase_return, receipt, refused, sale, sale_return, settlement, stock_change, stocktake, t,
)

LATER = t(days=30)  # long after every grace period
CATALOGUE = {PRODUCT: frozenset({"8123456", "06901234567892"}), "XB05CCC0301": frozenset({"8234567"})}


def code_hit(rule: Rule, stores: tuple[str, ...], evidence: tuple[str, ...], detail: str,
             severity: Severity | None = None) -> Hit:
    return Hit(rule=rule, severity=severity or rule.severity, subject=CODE, stores=stores, code=CODE,
               evidence=evidence, detail=detail)


def evaluate(events, settlements=(), now=LATER, settings=DEFAULT_SETTINGS, catalogue=None):
    by_doc = {(s.store, s.doc): s for s in settlements}
    return evaluate_code(events, by_doc, now, settings, catalogue)


# --- rule 1: sold twice at one store -------------------------------------------------------------

def test_rule1_whole_box_sold_twice_at_one_store():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"), sale("s2", "S1", t(hours=2), "D2")]
    assert evaluate(events) == [code_hit(
        Rule.SOLD_TWICE_SAME_STORE, ("S1",), ("s1", "s2"),
        "whole box sold again at the same store before any return: sale at S1 ×2")]


def test_rule1_third_sale_adds_evidence_to_the_same_hit():
    events = [receipt("r1", "S1", t())] + [sale(f"s{i}", "S1", t(hours=i), f"D{i}") for i in (1, 2, 3)]
    assert evaluate(events) == [code_hit(
        Rule.SOLD_TWICE_SAME_STORE, ("S1",), ("s1", "s2", "s3"),
        "whole box sold again at the same store before any return: sale at S1 ×3")]


@pytest.mark.parametrize("label, events", [
    ("one sale", [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1")]),
    ("same event delivered twice", [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
                                    sale("s1", "S1", t(hours=1), "D1"), receipt("r1", "S1", t())]),
    ("re-scan in the same document within seconds", [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
                                                     sale("s2", "S1", t(hours=1, seconds=4), "D1", line=2)]),
    ("re-scan exactly at the window's end", [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
                                              sale("s2", "S1", t(hours=1, seconds=60), "D1")]),
    ("sale, return, resale", [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
                              sale_return("x1", "S1", t(hours=2), "D1"), sale("s2", "S1", t(hours=3), "D2")]),
    ("return names no known document: closes the store's latest sale",
     [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"), sale_return("x1", "S1", t(hours=2), "D-OTHER"),
      sale("s2", "S1", t(hours=3), "D2")]),
])
def test_no_duplicate_sale_hit(label, events):
    assert evaluate(events) == []


def test_rescan_outside_the_window_is_a_second_sale():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
              sale("s2", "S1", t(hours=1, seconds=61), "D1")]
    assert [h.rule for h in evaluate(events)] == [Rule.SOLD_TWICE_SAME_STORE]


def test_rescan_window_is_configurable():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
              sale("s2", "S1", t(hours=1, seconds=4), "D1")]
    assert [h.rule for h in evaluate(events, settings=RuleSettings(rescan_window_seconds=0))] == [
        Rule.SOLD_TWICE_SAME_STORE]


# --- rule 2: sold at two stores --------------------------------------------------------------------

def test_rule2_sold_at_a_second_store_while_unreturned():
    events = [receipt("r1", "S1", t()), receipt("r2", "S2", t(days=1)), sale("s1", "S1", t(hours=1), "D1"),
              sale("s2", "S2", t(days=2), "E1")]
    hits = evaluate(events)
    assert hits == [
        code_hit(Rule.SOLD_AT_TWO_STORES, ("S1", "S2"), ("s1", "s2"),
                 "sold at another store while an earlier sale was not returned: sale at S1, S2"),
        code_hit(Rule.RECEIVED_AFTER_SALE, ("S1", "S2"), ("r2", "s1"),
                 "received while sold and not returned: receipt at S2; sale at S1"),
    ]
    assert hits[0].severity is Severity.CRITICAL


def test_rule2_split_pack_sale_at_another_store_is_sold_at_two_stores():
    events = [receipt("r1", "S1", t()), stocktake("k2", "S2", t()),
              sale("s1", "S1", t(hours=1), "D1", split=(2, 24)), sale("s2", "S2", t(hours=2), "E1", split=(2, 24))]
    assert evaluate(events) == [code_hit(
        Rule.SOLD_AT_TWO_STORES, ("S1", "S2"), ("s1", "s2"),
        "sold at another store while an earlier sale was not returned: sale at S1, S2")]


def test_rule2_not_after_a_return_and_resale_elsewhere_with_provenance():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"), sale_return("x1", "S1", t(hours=2), "D1"),
              stocktake("k2", "S2", t(days=1)), sale("s2", "S2", t(days=2), "E1")]
    assert evaluate(events) == []


# --- rule 3: split-pack abuse ----------------------------------------------------------------------

@pytest.mark.parametrize("label, units", [
    ("units fill the box exactly", [(8, 24), (8, 24), (8, 24)]),
    ("two small sales", [(2, 24), (3, 24)]),
    ("a single split sale", [(24, 24)]),
])
def test_legitimate_split_pack_sales(label, units):
    events = [receipt("r1", "S1", t())] + [
        sale(f"s{i}", "S1", t(hours=i + 1), f"D{i}", split=u) for i, u in enumerate(units)]
    assert evaluate(events) == []


def test_rule3_split_units_beyond_the_box():
    events = [receipt("r1", "S1", t())] + [
        sale(f"s{i}", "S1", t(hours=i), f"D{i}", split=(10, 24)) for i in (1, 2, 3)]
    assert evaluate(events) == [code_hit(
        Rule.SPLIT_PACK_ABUSE, ("S1",), ("s1", "s2", "s3"),
        "repeated sales of one box that are not a legitimate split pack: sale at S1 ×3")]


@pytest.mark.parametrize("label, first, second", [
    ("whole box after split", (2, 24), None),
    ("split after whole box", None, (2, 24)),
])
def test_rule3_mixed_whole_and_split_sales(label, first, second):
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1", split=first),
              sale("s2", "S1", t(hours=2), "D2", split=second)]
    assert evaluate(events) == [code_hit(
        Rule.SPLIT_PACK_ABUSE, ("S1",), ("s1", "s2"),
        "repeated sales of one box that are not a legitimate split pack: sale at S1 ×2")]


# --- rule 4: received after sale -------------------------------------------------------------------

def test_rule4_received_again_at_the_selling_store():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"), receipt("r2", "S1", t(days=3), doc="R2")]
    assert evaluate(events) == [code_hit(
        Rule.RECEIVED_AFTER_SALE, ("S1",), ("r2", "s1"),
        "received while sold and not returned: receipt at S1; sale at S1")]


def test_rule4_received_inside_a_case_after_sale():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
              receipt("c1", "S2", t(days=3), code="82222222222222222222", contains=["80000000000000000001", CODE])]
    assert evaluate(events) == [code_hit(
        Rule.RECEIVED_AFTER_SALE, ("S1", "S2"), ("c1", "s1"),
        "received while sold and not returned: receipt at S2; sale at S1")]


def test_rule4_not_after_the_sale_was_returned():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"), sale_return("x1", "S1", t(hours=2), "D1"),
              receipt("r2", "S1", t(days=3), doc="R2")]
    assert evaluate(events) == []


# --- rule 5: received twice ------------------------------------------------------------------------

def test_rule5_received_by_two_stores():
    events = [receipt("r1", "S1", t()), receipt("r2", "S2", t(days=1))]
    assert evaluate(events) == [code_hit(
        Rule.RECEIVED_TWICE, ("S1", "S2"), ("r1", "r2"),
        "received by a second store without a purchase return between: receipt at S1, S2")]


def test_rule5_a_destroyed_box_received_elsewhere():
    events = [receipt("r1", "S1", t()), stock_change("d1", "S1", t(hours=1), StockChangeKind.DESTROYED),
              receipt("r2", "S2", t(days=1))]
    assert [h.evidence for h in evaluate(events)] == [("r1", "r2")]


@pytest.mark.parametrize("label, events", [
    ("purchase return between", [receipt("r1", "S1", t()), purchase_return("p1", "S1", t(days=1)),
                                 receipt("r2", "S2", t(days=2))]),
    ("received twice at the same store", [receipt("r1", "S1", t()), receipt("r2", "S1", t(days=1), doc="R2")]),
    ("case, then its box, at one store", [receipt("c1", "S1", t(), code="82222222222222222222", contains=[CODE]),
                                          receipt("r1", "S1", t(hours=1), doc="R2")]),
])
def test_rule5_negative(label, events):
    assert evaluate(events) == []


# --- rule 6: no provenance -------------------------------------------------------------------------

def test_rule6_sale_without_receipt_after_the_grace_period():
    events = [sale("s1", "S1", t(), "D1")]
    expected = [code_hit(Rule.NO_PROVENANCE, ("S1",), ("s1",),
                         "sold without a receipt or stocktake at that store within the grace period: sale at S1")]
    assert evaluate(events, now=t(hours=72)) == expected
    assert evaluate(events, now=t(hours=71, minutes=59)) == []


@pytest.mark.parametrize("label, provenance", [
    ("receipt before the sale", receipt("r1", "S1", t(days=-10))),
    ("receipt scanned late, within the grace", receipt("r1", "S1", t(hours=71))),
    ("receipt exactly at the end of the grace", receipt("r1", "S1", t(hours=72))),
    ("stocktake", stocktake("k1", "S1", t(hours=5))),
    ("case receipt listing the box", receipt("c1", "S1", t(days=-1), code="82222222222222222222", contains=[CODE])),
])
def test_rule6_negative(label, provenance):
    assert evaluate([sale("s1", "S1", t(), "D1"), provenance], now=LATER) == []


def test_rule6_receipt_too_late_or_elsewhere_is_no_provenance():
    events = [sale("s1", "S1", t(), "D1"), receipt("r1", "S1", t(hours=73)), receipt("r2", "S2", t(days=-1))]
    assert [(h.rule, h.evidence) for h in evaluate(events)] == [
        (Rule.RECEIVED_AFTER_SALE, ("r1", "s1")), (Rule.NO_PROVENANCE, ("s1",))]


def test_recheck_at_names_the_end_of_the_grace():
    events = [sale("s1", "S1", t(), "D1"), receipt("r2", "S2", t(days=-1)), sale("s2", "S1", t(hours=1), "D2")]
    assert recheck_at(events, t(hours=2)) == t(hours=72)
    assert recheck_at(events, t(hours=72)) == t(hours=73)
    assert recheck_at(events, t(hours=73)) is None
    assert recheck_at(events + [receipt("r1", "S1", t(hours=3))], t(hours=2)) is None


def test_late_receipt_is_provenance_not_a_receipt_after_sale():
    events = [sale("s1", "S1", t(), "D1"), receipt("r1", "S1", t(hours=20))]
    assert evaluate(events) == []


def test_second_receipt_after_a_sale_with_provenance_is_a_receipt_after_sale():
    events = [receipt("r1", "S1", t(days=-1)), sale("s1", "S1", t(), "D1"), receipt("r2", "S1", t(hours=20), doc="R2")]
    assert [(h.rule, h.evidence) for h in evaluate(events)] == [(Rule.RECEIVED_AFTER_SALE, ("r2", "s1"))]


# --- rule 7: swipe-then-return cycle ---------------------------------------------------------------

def _cycle(return_after: dt.timedelta, resale_payment: Payment):
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
              sale_return("x1", "S1", t(hours=1) + return_after, "D1"),
              sale("s2", "S1", t(hours=2) + return_after, "D2")]
    settlements = [settlement("st1", "S1", t(hours=1, seconds=30), "D1"),
                   settlement("st2", "S1", t(hours=2, seconds=30) + return_after, "D2", payment=resale_payment)]
    return evaluate(events, settlements)


def test_rule7_return_soon_after_insurance_then_insurance_resale():
    assert _cycle(dt.timedelta(days=2), Payment.INSURANCE) == [code_hit(
        Rule.SWIPE_RETURN_CYCLE, ("S1",), ("s1", "s2", "st1", "st2", "x1"),
        "returned soon after an insurance settlement, then sold again on insurance: "
        "sale at S1 ×2; sale return at S1; settlement at S1 ×2")]


@pytest.mark.parametrize("label, after, payment", [
    ("resale paid by the patient", dt.timedelta(days=2), Payment.SELF_PAY),
    ("return after the 10-day window", dt.timedelta(days=10, minutes=1), Payment.INSURANCE),
])
def test_rule7_negative(label, after, payment):
    assert _cycle(after, payment) == []


def test_rule7_first_sale_self_pay_is_no_cycle():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"), sale_return("x1", "S1", t(hours=2), "D1"),
              sale("s2", "S1", t(hours=3), "D2")]
    settlements = [settlement("st1", "S1", t(hours=1, seconds=30), "D1", payment=Payment.SELF_PAY),
                   settlement("st2", "S1", t(hours=3, seconds=30), "D2")]
    assert evaluate(events, settlements) == []


def test_rule7_waits_for_the_resale_settlement():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"), sale_return("x1", "S1", t(hours=2), "D1"),
              sale("s2", "S1", t(hours=3), "D2")]
    first = settlement("st1", "S1", t(hours=1, seconds=30), "D1")
    assert evaluate(events, [first]) == []
    assert [h.rule for h in evaluate(events, [first, settlement("st2", "S1", t(hours=3, seconds=30), "D2")])] == [
        Rule.SWIPE_RETURN_CYCLE]


# --- rule 8: 串换 ----------------------------------------------------------------------------------

def test_rule8_mismatch_refused_at_the_counter():
    events = [receipt("r1", "S1", t()), refused("q1", "S1", t(hours=1), "product_mismatch")]
    assert evaluate(events) == [code_hit(
        Rule.PRODUCT_MISMATCH, ("S1",), ("q1",),
        "the code's product key is not the billed product's: refused scan at S1")]


def test_rule8_other_refusals_do_not_fire():
    assert evaluate([receipt("r1", "S1", t()), refused("q1", "S1", t(hours=1), "expired")]) == []


def test_rule8_sale_of_another_products_code_is_high():
    events = [receipt("r1", "S1", t()), refused("q1", "S1", t(minutes=30), "product_mismatch"),
              sale("s1", "S1", t(hours=1), "D1", product="XB05CCC0301")]
    assert evaluate(events, catalogue=CATALOGUE) == [code_hit(
        Rule.PRODUCT_MISMATCH, ("S1",), ("q1", "s1"),
        "the code's product key is not the billed product's: refused scan at S1; sale at S1", Severity.HIGH)]


@pytest.mark.parametrize("label, product, catalogue", [
    ("no catalogue given", "XB05CCC0301", None),
    ("product not in the catalogue", "XC00UNKNOWN", CATALOGUE),
    ("key listed for the product", PRODUCT, CATALOGUE),
])
def test_rule8_sale_negative(label, product, catalogue):
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1", product=product)]
    assert evaluate(events, catalogue=catalogue) == []


# --- input handling --------------------------------------------------------------------------------

def test_events_of_other_codes_are_ignored_when_the_code_is_given():
    other = "89999999999999999999"
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"),
              sale("o1", "S1", t(hours=2), "D2", code=other), sale("o2", "S1", t(hours=3), "D3", code=other)]
    assert evaluate_code(events, {}, LATER, code=CODE) == []


def test_events_of_several_codes_without_the_code_are_refused():
    events = [sale("s1", "S1", t(), "D1"), sale("o1", "S1", t(), "D2", code="89999999999999999999")]
    with pytest.raises(RuleInputError, match="Expected the events of one code, got 2 codes"):
        evaluate_code(events, {}, LATER)


def test_no_events_no_hits():
    assert evaluate_code([], {}, LATER) == []
