"""Which sequence numbers of a store arrived, its holes, and when they are asked for again."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from collector.sequences import (
    Received, ResendPolicy, StoreSequence, advance, holes, merge, missing_count, requested, resend_due,
)
from drugtrace.resend import MAX_RESEND_EVENTS

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)
POLICY = ResendPolicy(after=dt.timedelta(seconds=120), retry=dt.timedelta(seconds=600), max_requests=2)


def _oracle_holes(numbers: set[int]) -> list[tuple[int, int]]:
    """Missing numbers below the highest, as ranges, the slow way."""
    out: list[tuple[int, int]] = []
    for n in range(1, max(numbers, default=0)):
        if n not in numbers:
            if out and out[-1][1] == n - 1:
                out[-1] = (out[-1][0], n)
            else:
                out.append((n, n))
    return out


@given(st.lists(st.integers(min_value=1, max_value=200), max_size=120), st.randoms())
def test_any_delivery_order_and_chunking_gives_the_same_state(numbers: list[int], rng) -> None:  # type: ignore[no-untyped-def]
    at_once = merge(Received(), numbers)
    shuffled = numbers[:] + numbers[: len(numbers) // 3]  # redelivered repeats
    rng.shuffle(shuffled)
    state = Received()
    while shuffled:
        cut = rng.randint(1, len(shuffled))
        state, shuffled = merge(state, shuffled[:cut]), shuffled[cut:]
    assert state == at_once
    assert holes(state) == _oracle_holes(set(numbers))
    assert missing_count(state) == sum(b - a + 1 for a, b in _oracle_holes(set(numbers)))


@given(st.permutations(list(range(1, 60))))
def test_every_number_arriving_in_any_order_leaves_no_hole(order: list[int]) -> None:
    state = Received()
    for n in order:
        state = merge(state, [n])
    assert state == Received(contiguous=59)


def test_a_ledger_counted_complete_ignores_numbers_at_or_below_it() -> None:
    assert merge(Received(contiguous=100), [3, 50, 100]) == Received(contiguous=100)
    assert merge(Received(contiguous=100), [102]) == Received(100, ((102, 102),))


def test_the_clock_starts_at_the_first_hole_and_again_when_the_lowest_hole_closes() -> None:
    state = advance(StoreSequence(), [1, 2, 5, 9], T0)
    assert state.holes_since == T0 and holes(state.received) == [(3, 4), (6, 8)]
    later = advance(state, [10], T0 + dt.timedelta(seconds=30))
    assert later.holes_since == T0  # the same lowest hole: the clock keeps running
    filled = advance(later, [3, 4], T0 + dt.timedelta(seconds=60))
    assert filled.holes_since == T0 + dt.timedelta(seconds=60) and holes(filled.received) == [(6, 8)]
    assert advance(filled, [6, 7, 8], T0 + dt.timedelta(seconds=90)) == StoreSequence(Received(contiguous=10))


def test_holes_are_asked_for_when_old_enough_then_after_the_retry_interval_at_most_max_requests() -> None:
    state = advance(StoreSequence(), [1, 4], T0)
    assert resend_due(state, T0 + dt.timedelta(seconds=119), POLICY) == []
    assert resend_due(state, T0 + dt.timedelta(seconds=120), POLICY) == [(2, 3)]
    asked = requested(state, T0 + dt.timedelta(seconds=120))
    assert resend_due(asked, T0 + dt.timedelta(seconds=700), POLICY) == []  # retry 600 s after the request
    assert resend_due(asked, T0 + dt.timedelta(seconds=720), POLICY) == [(2, 3)]
    twice = requested(asked, T0 + dt.timedelta(seconds=720))
    assert resend_due(twice, T0 + dt.timedelta(days=30), POLICY) == []  # requests used up: stays missing
    assert missing_count(twice.received) == 2
    again = advance(twice, [5], T0 + dt.timedelta(days=30))
    assert again.requests == 2  # new numbers above do not reset the requests for the same hole


def test_a_long_hole_is_asked_for_in_requests_the_agent_accepts() -> None:
    state = advance(StoreSequence(), [1, MAX_RESEND_EVENTS * 2 + 10], T0)
    due = resend_due(state, T0 + dt.timedelta(hours=1), POLICY)
    assert due == [(2, MAX_RESEND_EVENTS + 1), (MAX_RESEND_EVENTS + 2, 2 * MAX_RESEND_EVENTS + 1),
                   (2 * MAX_RESEND_EVENTS + 2, 2 * MAX_RESEND_EVENTS + 9)]
    assert all(last - first < MAX_RESEND_EVENTS for first, last in due)


def test_max_requests_zero_never_asks() -> None:
    state = advance(StoreSequence(), [1, 3], T0)
    never = ResendPolicy(max_requests=0)
    assert resend_due(state, T0 + dt.timedelta(days=1), never) == []
