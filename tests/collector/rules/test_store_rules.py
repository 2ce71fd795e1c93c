"""Rules 10 (collection gaps) and 11 (store silent, clock skew): exact hits and their edges."""

from __future__ import annotations

import datetime as dt

import pytest

from collector.rules import (
    ALWAYS_OPEN, Hit, OpeningHours, Rule, RuleSettings, Severity, evaluate_collection, evaluate_store_health,
)
from collector.rules.errors import RuleInputError
from drugtrace.events import Payment
from tests.collector.rules.builders import T0, heartbeat, line, settlement, t

DAY = T0.date()  # 2026-11-02, local (UTC+8)


# --- rule 10 ---------------------------------------------------------------------------------------

def _day(short: int, *, total: int = 20, overridden: bool = False) -> list:
    """`total` one-box insurance settlements of which `short` lack their code (or were overridden)."""
    return [settlement(f"st{i:02}", "S1", t(hours=1, minutes=i), f"D{i}",
                       lines=[line(1, 0 if i < short and not overridden else 1, overridden=overridden and i < short)])
            for i in range(total)]


def test_rule10_rate_below_the_threshold():
    assert evaluate_collection("S1", DAY, _day(2)) == [Hit(
        rule=Rule.COLLECTION_GAP, severity=Severity.MEDIUM, subject="store:S1:2026-11-02", stores=("S1",), code=None,
        evidence=("st00", "st01"),
        detail="codes collected for 18 of 20 boxes (90.0%) in insurance settlements on 2026-11-02, below 95%")]


def test_rule10_overridden_lines_count_as_not_collected():
    assert [h.evidence for h in evaluate_collection("S1", DAY, _day(2, overridden=True))] == [("st00", "st01")]


@pytest.mark.parametrize("label, settlements", [
    ("exactly at the threshold", _day(1)),
    ("everything collected", _day(0)),
    ("no insurance sales", []),
    ("the same settlement delivered twice", _day(1) + _day(1)[:1]),
    ("gaps only in self-pay sales", _day(0) + [settlement("sp", "S1", t(hours=2), "DX", payment=Payment.SELF_PAY,
                                                          lines=[line(5, 0)])]),
    ("gaps only on exempt lines",
     _day(0) + [settlement("ex", "S1", t(hours=2), "DX", lines=[line(5, 0, exempt=True)])]),
    ("gaps at another store", _day(0) + [settlement("o", "S2", t(hours=2), "DX", lines=[line(5, 0)])]),
    ("gaps on another local day", _day(0) + [settlement("o", "S1", t(hours=15), "DX", lines=[line(5, 0)])]),
])
def test_rule10_negative(label, settlements):
    assert evaluate_collection("S1", DAY, settlements) == []


def test_rule10_local_day_boundaries():
    # 23:30 local on 2 November is 15:30 UTC: it belongs to the 2nd, not to a UTC day.
    late = settlement("late", "S1", dt.datetime(2026, 11, 2, 15, 30, tzinfo=dt.timezone.utc), "D1",
                      lines=[line(1, 0)])
    assert [h.subject for h in evaluate_collection("S1", DAY, [late])] == ["store:S1:2026-11-02"]
    assert evaluate_collection("S1", DAY + dt.timedelta(days=1), [late]) == []


def test_rule10_minimum_boxes():
    settings = RuleSettings(collection_min_boxes=25)
    assert evaluate_collection("S1", DAY, _day(10), settings) == []
    assert len(evaluate_collection("S1", DAY, _day(10, total=25), settings)) == 1


def test_rule10_partly_collected_line():
    paid = settlement("st1", "S1", t(), "D1", lines=[line(4, 3), line(6, 9, number=2)])
    assert [h.detail for h in evaluate_collection("S1", DAY, [paid])] == [
        "codes collected for 9 of 10 boxes (90.0%) in insurance settlements on 2026-11-02, below 95%"]


# --- rule 11: silent -------------------------------------------------------------------------------

def silent(received: dt.datetime, evidence: tuple[str, ...] = ("h1",)) -> Hit:
    return Hit(rule=Rule.STORE_SILENT, severity=Severity.MEDIUM, subject="store:S1", stores=("S1",), code=None,
               evidence=evidence,
               detail=("silent for more than 15 minutes of opening hours; "
                       f"last heartbeat received {received.isoformat()}"))


def test_rule11_silent_in_opening_hours():
    beat = heartbeat("h1", "S1", t())
    assert evaluate_store_health("S1", beat, t(seconds=1), t(minutes=16)) == [silent(t(seconds=1))]
    assert evaluate_store_health("S1", beat, t(seconds=1), t(minutes=15, seconds=1)) == []


def test_rule11_closed_hours_do_not_count():
    evening = t(hours=12, minutes=50)  # 21:50 local, the store closes at 22:00
    beat = heartbeat("h1", "S1", evening)
    assert evaluate_store_health("S1", beat, evening, t(days=1, hours=-1, minutes=4)) == []  # 10 + 4 open minutes
    assert evaluate_store_health("S1", beat, evening, t(days=1, hours=-1, minutes=6)) == [silent(evening)]


def test_rule11_opening_hours_per_store_and_overnight():
    evening = t(hours=12, minutes=50)
    beat = heartbeat("h1", "S1", evening)
    assert len(evaluate_store_health("S1", beat, evening, t(hours=13, minutes=6), opening_hours=ALWAYS_OPEN)) == 1
    overnight = OpeningHours(opens=dt.time(20, 0), closes=dt.time(2, 0))  # 20:00 - 02:00 local
    assert len(evaluate_store_health("S1", beat, evening, t(hours=17, minutes=30), opening_hours=overnight)) == 1
    assert evaluate_store_health("S1", beat, evening, t(hours=12, minutes=55), opening_hours=overnight) == []


def test_rule11_never_heard_from():
    assert evaluate_store_health("S1", None, None, t(minutes=20), expected_since=t()) == [Hit(
        rule=Rule.STORE_SILENT, severity=Severity.MEDIUM, subject="store:S1", stores=("S1",), code=None, evidence=(),
        detail="silent for more than 15 minutes of opening hours; no heartbeat since 2026-11-02T09:00:00+08:00")]
    assert evaluate_store_health("S1", None, None, t(minutes=20)) == []


def test_rule11_heartbeat_needs_its_receive_time():
    with pytest.raises(RuleInputError, match="both given or both None"):
        evaluate_store_health("S1", heartbeat("h1", "S1", t()), None, t())


# --- rule 11: clock skew ---------------------------------------------------------------------------

def skew(direction: str, seconds: int) -> Hit:
    return Hit(rule=Rule.CLOCK_SKEW, severity=Severity.LOW, subject="store:S1", stores=("S1",), code=None,
               evidence=("h1",), detail=f"store clock {direction} by {seconds} s (limit 300 s)")


@pytest.mark.parametrize("label, store_clock, received, depth, expected", [
    ("ahead", t(minutes=6), t(), 0, [skew("ahead", 360)]),
    ("behind with an empty outbox", t(), t(minutes=6), 0, [skew("behind", 360)]),
    ("behind, but it waited in the outbox", t(), t(minutes=6), 12, []),
    ("ahead with a full outbox is still ahead", t(minutes=6), t(), 12, [skew("ahead", 360)]),
    ("within the limit", t(minutes=5), t(), 0, []),
])
def test_rule11_clock_skew(label, store_clock, received, depth, expected):
    beat = heartbeat("h1", "S1", store_clock, outbox_depth=depth)
    assert evaluate_store_health("S1", beat, received, received + dt.timedelta(minutes=1)) == expected


def test_rule11_silent_and_skewed():
    beat = heartbeat("h1", "S1", t(minutes=10))
    assert [h.rule for h in evaluate_store_health("S1", beat, t(), t(minutes=30))] == [
        Rule.STORE_SILENT, Rule.CLOCK_SKEW]
