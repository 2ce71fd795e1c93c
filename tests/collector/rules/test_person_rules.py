"""Rule 9 (excess purchases): exact hits, the limits' edges, and order-free evaluation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.rules import (
    Hit, Purchase, Rule, RuleSettings, Severity, evaluate_person, purchases_of, within_limits,
)
from drugtrace.events import Payment
from tests.collector.rules.builders import PERSON, PRODUCT, line, settlement, t

SUBJECT = f"person:{PERSON}:{PRODUCT}"
OTHER_PERSON = "p_ffffffffffffffffffffffffffffffff"


def bought(id: str, store: str, days: float, quantity: int, person: str = PERSON, product: str = PRODUCT) -> Purchase:
    return Purchase(person=person, product=product, quantity=quantity, at=t(days=days), store=store, event_id=id)


def test_purchases_of_an_insurance_settlement_add_up_lines_of_one_product():
    paid = settlement("st1", "S1", t(), "D1", lines=[line(2, 2, number=1), line(1, 1, number=2),
                                                     line(0, 0, number=3, product="ZA02BAA0203", quantity=3)])
    assert purchases_of(paid) == [
        Purchase(person=PERSON, product=PRODUCT, quantity=3, at=t(), store="S1", event_id="st1"),
        Purchase(person=PERSON, product="ZA02BAA0203", quantity=3, at=t(), store="S1", event_id="st1"),
    ]


@pytest.mark.parametrize("label, paid", [
    ("self-pay", settlement("st1", "S1", t(), "D1", payment=Payment.SELF_PAY)),
    ("no person", settlement("st1", "S1", t(), "D1", person=None)),
])
def test_no_purchases_without_insurance_and_person(label, paid):
    assert purchases_of(paid) == []


def test_quantity_beyond_the_limit_across_stores():
    purchases = [bought("a", "S1", 0, 4), bought("b", "S2", 10, 4), bought("c", "S3", 29, 3), bought("d", "S1", 60, 1)]
    assert evaluate_person(purchases) == [Hit(
        rule=Rule.EXCESS_PURCHASES, severity=Severity.MEDIUM, subject=SUBJECT, stores=("S1", "S2", "S3"), code=None,
        evidence=("a", "b", "c"),
        detail=(f"{PRODUCT} bought up to 11 units in up to 3 settlements within 30 days "
                "(limits 10 units, 6 settlements)"),
    )]


def test_frequency_beyond_the_limit():
    purchases = [bought(f"s{i}", "S1", i * 4, 1) for i in range(7)]  # 7 settlements within 24 days
    assert evaluate_person(purchases) == [Hit(
        rule=Rule.EXCESS_PURCHASES, severity=Severity.MEDIUM, subject=SUBJECT, stores=("S1",), code=None,
        evidence=tuple(f"s{i}" for i in range(7)),
        detail=f"{PRODUCT} bought up to 7 units in up to 7 settlements within 30 days (limits 10 units, 6 settlements)",
    )]


@pytest.mark.parametrize("label, purchases", [
    ("exactly at the quantity limit", [bought("a", "S1", 0, 5), bought("b", "S2", 29, 5)]),
    ("exactly at the count limit", [bought(f"s{i}", "S1", i, 1) for i in range(6)]),
    ("spread over more than the window", [bought("a", "S1", 0, 6), bought("b", "S1", 30, 6)]),
    ("two people", [bought("a", "S1", 0, 6), bought("b", "S1", 1, 6, person=OTHER_PERSON)]),
    ("two products", [bought("a", "S1", 0, 6), bought("b", "S1", 1, 6, product="XB05CCC0301")]),
    ("the same settlement delivered twice", [bought("a", "S1", 0, 6), bought("a", "S1", 0, 6)]),
])
def test_within_limits(label, purchases):
    assert evaluate_person(purchases) == []


def test_limits_are_configurable():
    purchases = [bought("a", "S1", 0, 2), bought("b", "S1", 1, 2)]
    settings = RuleSettings(purchase_max_quantity=3, purchase_window_days=7)
    assert [h.evidence for h in evaluate_person(purchases, settings)] == [("a", "b")]


def test_only_purchases_of_exceeding_windows_are_evidence():
    purchases = [bought("early", "S1", 0, 1), bought("a", "S1", 40, 6), bought("b", "S2", 41, 6)]
    assert [h.evidence for h in evaluate_person(purchases)] == [("a", "b")]


def test_order_and_repeats_do_not_matter():
    purchases = [bought("a", "S1", 0, 4), bought("b", "S2", 10, 4), bought("c", "S3", 29, 3)]
    reference = evaluate_person(purchases)
    assert evaluate_person(list(reversed(purchases)) + purchases[:2]) == reference
    assert reference


def test_one_hit_per_person_and_product_sorted_by_subject():
    purchases = [bought("a", "S1", 0, 11), bought("b", "S1", 0, 11, person=OTHER_PERSON),
                 bought("c", "S1", 0, 11, product="XB05CCC0301")]
    assert [h.subject for h in evaluate_person(purchases)] == [
        SUBJECT, f"person:{PERSON}:XB05CCC0301", f"person:{OTHER_PERSON}:{PRODUCT}"]


_LIMITS = RuleSettings(purchase_max_quantity=4, purchase_max_count=2)


@st.composite
def one_persons_settlements(draw):
    """Settlements of one person near rule 9's limits (small ones, so the bound is tight)."""
    paid = []
    for i in range(draw(st.integers(0, 4))):
        lines = [line(0, 0, number=n + 1, product=draw(st.sampled_from((PRODUCT, "ZA02BAA0203"))),
                      quantity=draw(st.integers(0, 3))) for n in range(draw(st.integers(1, 2)))]
        paid.append(settlement(f"st{i}", draw(st.sampled_from(("S1", "S2"))), t(days=draw(st.integers(0, 60))), "D1",
                               payment=draw(st.sampled_from((Payment.INSURANCE, Payment.INSURANCE, Payment.SELF_PAY))),
                               lines=lines))
    return paid


@settings(max_examples=400, deadline=None)
@given(one_persons_settlements())
def test_within_the_limits_all_told_no_window_is_judged_beyond_them(paid):
    """The evaluator builds no purchases for a person `within_limits` accepts: rule 9 must find nothing."""
    if within_limits(paid, _LIMITS):
        assert evaluate_person([p for s in paid for p in purchases_of(s)], _LIMITS) == []


def test_within_limits_is_not_vacuous():
    two = [settlement("st1", "S1", t(), "D1", lines=[line(2, 2)]), settlement("st2", "S2", t(days=1), "D2",
                                                                              lines=[line(2, 2)])]
    assert within_limits(two, _LIMITS)
    assert not within_limits(two + [settlement("st3", "S1", t(days=90), "D3", lines=[line(1, 1)])], _LIMITS)
    assert within_limits(two + [settlement("st3", "S1", t(days=90), "D3", lines=[line(1, 1)],
                                           payment=Payment.SELF_PAY)], _LIMITS)
    assert not within_limits([settlement("st1", "S1", t(), "D1", lines=[line(5, 5)])], _LIMITS)
