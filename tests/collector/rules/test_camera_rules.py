"""Rules 12-17 (camera-verified swipe anomalies): exact hits, negatives, and order-freedom."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.rules import DEFAULT_SETTINGS, Hit, Rule, RuleSettings, Severity, evaluate_camera
from collector.rules.camera_rules import Swipe, footfall, seen_keys, swipes
from drugtrace.events import CameraEvidence, Health, Payment
from drugtrace.wire import seal
from tests.collector.rules.builders import CODE, line, sale, settlement, t

S = "S001"
OTHER = "81234567890123450001"
THIRD = "81234567890123450002"


def evidence(id: str, of, *, people: int = 1, with_person: int | None = None, frames: int = 70,
             codes: tuple[str, ...] = (CODE,), health: Health = Health.OK, store: str = S) -> CameraEvidence:
    """The camera evidence the agent sends 10 s after settlement `of` (window 60 s before to 10 s after)."""
    at = of.at + dt.timedelta(seconds=10)
    return seal(CameraEvidence(
        id=id, store=store, doc=of.doc, seq=of.seq + 1, at=at, setl_id=of.setl_id,
        window_start=of.at - dt.timedelta(seconds=60), window_end=at, frames_analysed=frames,
        frames_with_person=frames if with_person is None and people else (with_person or 0), people_max=people,
        codes_seen=list(codes), camera_health=health, motion_mean=0.02 if people else 0.0))


def hits_of(events, rule: Rule | None = None, settings: RuleSettings = DEFAULT_SETTINGS) -> list[Hit]:
    return [h for h in evaluate_camera(events, settings) if rule is None or h.rule is rule]


# -- 12 空刷 -------------------------------------------------------------------------------------

def test_swipe_with_nobody_there() -> None:
    s = settlement("st1", S, t(minutes=5), "D1")
    ev = evidence("ev1", s, people=0, codes=())
    assert hits_of([s, ev, sale("sa1", S, t(minutes=4), "D1")]) == [Hit(
        rule=Rule.SWIPE_NOBODY, severity=Severity.HIGH, subject="settlement:S001:SETL-st1", stores=(S,), code=None,
        evidence=("ev1", "st1"),
        detail="insurance settlement SETL-st1: no person at the counter in any of 70 frames from "
               "2026-11-02T09:04:00+08:00 to 2026-11-02T09:05:10+08:00")]


@pytest.mark.parametrize("case", [
    "person_seen_in_one_frame", "too_few_frames", "self_pay", "no_evidence", "camera_covered",
])
def test_swipe_with_nobody_negatives(case: str) -> None:
    payment = Payment.SELF_PAY if case == "self_pay" else Payment.INSURANCE
    s = settlement("st1", S, t(minutes=5), "D1", payment=payment)
    ev = evidence("ev1", s, people=1 if case == "person_seen_in_one_frame" else 0,
                  with_person=1 if case == "person_seen_in_one_frame" else 0,
                  frames=4 if case == "too_few_frames" else 70,
                  health=Health.COVERED if case == "camera_covered" else Health.OK)
    events = [s] if case == "no_evidence" else [s, ev]
    assert hits_of(events, Rule.SWIPE_NOBODY) == []


# -- 13 swipe without scan ----------------------------------------------------------------------

def test_swipe_without_scan() -> None:
    s = settlement("st1", S, t(minutes=5), "D1", lines=[line(2, 0), line(1, 0, number=2, overridden=True),
                                                        line(0, 0, number=3, exempt=True)])
    assert hits_of([s], Rule.SWIPE_WITHOUT_SCAN) == []  # no camera: rule 10's business
    assert hits_of([s, evidence("ev1", s, codes=(OTHER,))], Rule.SWIPE_WITHOUT_SCAN) == [Hit(
        rule=Rule.SWIPE_WITHOUT_SCAN, severity=Severity.MEDIUM, subject="settlement:S001:SETL-st1", stores=(S,),
        code=None, evidence=("ev1", "st1"),
        detail="insurance settlement SETL-st1: no code scanned for 3 box(es) on 2 line(s) that require codes "
               "(1 overridden)")]
    # the camera saw no code either: as serious as 空刷
    [hit] = hits_of([s, evidence("ev1", s, codes=())], Rule.SWIPE_WITHOUT_SCAN)
    assert hit.severity is Severity.HIGH and hit.evidence == ("ev1", "st1")
    assert hit.detail.endswith("; the camera saw no code either")


@pytest.mark.parametrize("lines", [
    pytest.param([line(2, 1)], id="some_codes"),
    pytest.param([line(1, 0), line(1, 1, number=2)], id="one_line_with_a_code"),
    pytest.param([line(0, 0, exempt=True)], id="only_exempt_lines"),
    pytest.param([line(0, 0)], id="no_box_requires_a_code"),
])
def test_swipe_without_scan_negatives(lines) -> None:
    s = settlement("st1", S, t(), "D1", lines=lines)
    assert hits_of([s, evidence("ev1", s)], Rule.SWIPE_WITHOUT_SCAN) == []


def test_self_pay_without_scan_is_not_judged() -> None:
    s = settlement("st1", S, t(), "D1", payment=Payment.SELF_PAY, lines=[line(1, 0)])
    assert hits_of([s, evidence("ev1", s, people=0, codes=())]) == []


# -- 14 unseen codes ------------------------------------------------------------------------------



def test_codes_sold_that_the_camera_never_saw() -> None:
    s = settlement("st1", S, t(minutes=5), "D1", lines=[line(2, 2)])
    sold = [sale("sa1", S, t(minutes=4), "D1", code=CODE), sale("sa2", S, t(minutes=4, seconds=5), "D1", code=OTHER)]
    ev = evidence("ev1", s, codes=(CODE, THIRD, "6901234567892"))  # a commodity barcode is no code
    assert hits_of([s, ev, *sold], Rule.UNSEEN_CODES) == [Hit(
        rule=Rule.UNSEEN_CODES, severity=Severity.LOW, subject="settlement:S001:SETL-st1", stores=(S,), code=None,
        evidence=("ev1", "sa2", "st1"),
        detail="insurance settlement SETL-st1: 1 of 2 code(s) sold were never seen by the camera, which read 2 other "
               "code(s) in the window")]
    assert hits_of([s, ev, *sold], Rule.UNSEEN_CODES, RuleSettings(unseen_min_codes=2)) == []


@pytest.mark.parametrize("case", ["all_seen", "camera_read_nothing", "camera_frozen", "self_pay"])
def test_unseen_codes_negatives(case: str) -> None:
    s = settlement("st1", S, t(minutes=5), "D1", payment=Payment.SELF_PAY if case == "self_pay" else Payment.INSURANCE)
    sold = sale("sa1", S, t(minutes=4), "D1", code=CODE)
    codes = {"all_seen": (CODE,), "camera_read_nothing": ()}.get(case, (OTHER,))
    ev = evidence("ev1", s, codes=codes, health=Health.FROZEN if case == "camera_frozen" else Health.OK)
    assert hits_of([s, ev, sold], Rule.UNSEEN_CODES) == []


def test_gs1_texts_seen_are_matched_by_identity_key() -> None:
    raw = "010950110153000317281231" + "10AB12\x1d21SERIAL9"
    s = settlement("st1", S, t(), "D1")
    ev = evidence("ev1", s, codes=(raw,))
    assert seen_keys(ev) == {"(01)09501101530003(21)SERIAL9"}


# -- 15 camera blind ------------------------------------------------------------------------------

@pytest.mark.parametrize("health", [Health.OFFLINE, Health.COVERED, Health.FROZEN, Health.ERROR])
def test_camera_blind_at_swipe(health: Health) -> None:
    s = settlement("st1", S, t(minutes=5), "D1")
    ev = evidence("ev1", s, people=0, frames=0, codes=(), health=health)
    assert hits_of([s, ev]) == [Hit(
        rule=Rule.CAMERA_BLIND, severity=Severity.MEDIUM, subject="settlement:S001:SETL-st1", stores=(S,), code=None,
        evidence=("ev1", "st1"),
        detail=f"insurance settlement SETL-st1: camera {health.value} from 2026-11-02T09:04:00+08:00 to "
               "2026-11-02T09:05:10+08:00")]


def test_a_working_camera_is_not_blind() -> None:
    s = settlement("st1", S, t(minutes=5), "D1")
    assert hits_of([s, evidence("ev1", s)]) == []


# -- 16 clustered swipes ---------------------------------------------------------------------------

def _person(n: int) -> str:
    return f"p_{n:032x}"


def _cluster(minutes: list[float], persons: list[int], people: list[int] | None = None, prefix: str = "") -> list:
    events = []
    for i, (m, p) in enumerate(zip(minutes, persons)):
        s = settlement(f"{prefix}st{i}", S, t(minutes=m), f"{prefix}D{i}", person=_person(p))
        events += [s, evidence(f"{prefix}ev{i}", s, people=(people or [1] * len(minutes))[i])]
    return events


def test_clustered_swipes() -> None:
    events = _cluster([0, 1.5, 3, 4.5, 30], [1, 2, 3, 3, 4])
    [hit] = hits_of(events, Rule.CLUSTERED_SWIPES)
    assert hit == Hit(
        rule=Rule.CLUSTERED_SWIPES, severity=Severity.HIGH, subject="settlement:S001:SETL-st0", stores=(S,),
        code=None, evidence=("ev0", "ev1", "ev2", "ev3", "st0", "st1", "st2", "st3"),
        detail="4 insurance settlements of 3 different insured persons within 4.5 minutes from "
               "2026-11-02T09:00:00+08:00, the camera seeing one person each time (limit 3 persons in 5 min)")


@pytest.mark.parametrize("minutes,persons,people", [
    pytest.param([0, 1, 2], [1, 2, 2], None, id="two_persons_only"),
    pytest.param([0, 3, 6], [1, 2, 3], None, id="spread_beyond_the_window"),
    pytest.param([0, 1, 2], [1, 2, 3], [1, 2, 1], id="two_people_at_one_swipe"),
    pytest.param([0, 1, 2], [1, 2, 3], [1, 0, 1], id="nobody_at_one_swipe"),
])
def test_clustered_swipes_negatives(minutes, persons, people) -> None:
    assert hits_of(_cluster(minutes, persons, people), Rule.CLUSTERED_SWIPES) == []


def test_two_separate_clusters_are_two_alerts() -> None:
    events = _cluster([0, 1, 2, 20, 21, 22], [1, 2, 3, 4, 5, 6])
    assert [h.subject for h in hits_of(events, Rule.CLUSTERED_SWIPES)] == [
        "settlement:S001:SETL-st0", "settlement:S001:SETL-st3"]


# -- 17 swipes vs footfall ---------------------------------------------------------------------------

def test_swipes_far_above_footfall() -> None:
    # seven settlements in one hour, one person each time, with overlapping windows: one visit
    events = _cluster([0, 0.5, 1, 1.5, 2, 2.5, 3], [1, 1, 1, 1, 1, 1, 1])
    [hit] = hits_of(events, Rule.SWIPES_VS_FOOTFALL)
    assert hit == Hit(
        rule=Rule.SWIPES_VS_FOOTFALL, severity=Severity.MEDIUM, subject="store:S001:2026-11-02T09", stores=(S,),
        code=None, evidence=tuple(sorted([f"st{i}" for i in range(7)] + [f"ev{i}" for i in range(7)])),
        detail="7 insurance settlements in the hour from 09:00 but 1 person(s) seen by the camera "
               "(limit 3× people, from 6 settlements)")


def test_footfall_negatives() -> None:
    apart = _cluster([0, 5, 10, 15, 20, 25, 30], [1, 2, 3, 4, 5, 6, 7])  # seven visits, seven people
    assert hits_of(apart, Rule.SWIPES_VS_FOOTFALL) == []
    few = _cluster([0, 0.5, 1, 1.5, 2], [1] * 5)  # below footfall_min_settlements
    assert hits_of(few, Rule.SWIPES_VS_FOOTFALL) == []
    two_hours = _cluster([50, 51, 52, 62, 63, 64], [1] * 6)  # 3 in each hour
    assert hits_of(two_hours, Rule.SWIPES_VS_FOOTFALL) == []


def test_footfall_counts_overlapping_windows_once() -> None:
    paired = swipes(_cluster([0, 0.5, 10], [1, 2, 3], [1, 2, 1]))
    assert footfall(paired) == 3  # max 2 in the first visit, 1 in the second


# -- pairing and order ------------------------------------------------------------------------------

def test_swipes_pair_evidence_and_sales_by_store_and_document() -> None:
    s = settlement("st1", S, t(), "D1")
    other = settlement("st2", "S002", t(), "D1")
    ev, late = evidence("ev1", s), evidence("ev9", s)
    sold = sale("sa1", S, t(minutes=-1), "D1")
    [mine, theirs] = swipes([late, sold, s, ev, other, sale("sa2", "S002", t(minutes=-1), "D2")])
    assert mine == Swipe(s, ev, (sold,))
    assert theirs == Swipe(other, None, ())


def _day() -> list:
    """A store's mixed morning: a 空刷, blind camera, unseen code, a cluster, a footfall burst, normal sales."""
    rng = random.Random(5)
    events: list = []
    for i in range(24):
        minutes = i * rng.choice([0.5, 1, 4, 9])
        s = settlement(f"st{i:02d}", S if i % 5 else "S002", t(minutes=minutes + i), f"D{i}",
                       person=_person(rng.randint(1, 5)), lines=[line(1, rng.choice([0, 1]))],
                       payment=Payment.INSURANCE if i % 7 else Payment.SELF_PAY)
        code = f"8123456{i:013d}"
        events.append(s)
        events.append(sale(f"sa{i:02d}", s.store, s.at - dt.timedelta(seconds=30), s.doc, code=code))
        people = rng.choice([0, 1, 1, 1, 2])
        seen = rng.choice([(code,), (), (OTHER,)])
        health = rng.choice([Health.OK] * 5 + [Health.FROZEN, Health.OFFLINE])
        if rng.random() < 0.85:
            events.append(evidence(f"ev{i:02d}", s, people=people, codes=seen, health=health, store=s.store))
    burst = _cluster([300 + m / 2 for m in range(8)], [1, 2, 3, 1, 2, 3, 4, 4], prefix="b")  # 14:00
    return events + rng.sample(burst, len(burst))


def test_the_drawn_day_reaches_every_camera_rule() -> None:
    """Guard against a vacuous property below."""
    assert {h.rule for h in hits_of(_day())} == {
        Rule.SWIPE_NOBODY, Rule.SWIPE_WITHOUT_SCAN, Rule.UNSEEN_CODES, Rule.CAMERA_BLIND, Rule.CLUSTERED_SWIPES,
        Rule.SWIPES_VS_FOOTFALL}


@settings(max_examples=60, deadline=None, database=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=3))
def test_order_and_redelivery_do_not_change_the_hits(rnd: random.Random, repeats: int) -> None:
    events = _day()
    reference = evaluate_camera(events)
    delivered = events + [rnd.choice(events) for _ in range(repeats * 5)]
    rnd.shuffle(delivered)
    assert evaluate_camera(delivered) == reference
    assert len({(h.rule, h.subject) for h in reference}) == len(reference)  # one alert per (rule, subject)
