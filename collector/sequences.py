"""Which of a store's sequence numbers arrived, where the holes are, and when to ask for them again.

Pure: plain functions over frozen dataclasses, `now` passed in. The agent numbers a store's
events 1, 2, 3, ... without gaps (its outbox), so a number missing below the highest one received
is an event the collector has not got: still on its way (out of order, a store catching up), or lost
after the broker acknowledged it (Mosquitto killed between autosaves). A hole that stays open past
`resend_after_s` is asked for again (`drugtrace.resend`), at most `resend_max_requests` times,
`resend_retry_s` apart; what never comes (an event the collector quarantined, or one the store has
pruned) stays listed as missing for the bureau to see.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from drugtrace.resend import MAX_RESEND_EVENTS

Range = tuple[int, int]  # first and last sequence number, both included


@dataclass(frozen=True)
class Received:
    """Every number 1..`contiguous` arrived, and those in `above`: sorted ranges, apart from each
    other and from `contiguous` by at least one missing number."""

    contiguous: int = 0
    above: tuple[Range, ...] = ()


@dataclass(frozen=True)
class StoreSequence:
    """A store's `Received`, and the state of asking for its holes."""

    received: Received = Received()
    holes_since: dt.datetime | None = None  # when the lowest hole was first seen; None: no hole
    requests: int = 0  # resend requests made since then
    requested_at: dt.datetime | None = None


@dataclass(frozen=True)
class ResendPolicy:
    after: dt.timedelta = dt.timedelta(seconds=120)
    retry: dt.timedelta = dt.timedelta(seconds=600)
    max_requests: int = 3


def _runs(numbers: set[int]) -> list[Range]:
    runs: list[Range] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def merge(received: Received, seqs: Iterable[int]) -> Received:
    """`received` with `seqs` added (repeats and numbers already counted change nothing)."""
    fresh = {s for s in seqs if s > received.contiguous}
    if not fresh:
        return received
    if not received.above:  # the usual case: the numbers that follow, in one piece
        low, high = min(fresh), max(fresh)
        if low == received.contiguous + 1 and high - low + 1 == len(fresh):
            return Received(high)
    ranges = sorted([*received.above, *_runs(fresh)])
    contiguous = received.contiguous
    above: list[Range] = []
    for first, last in ranges:
        if first <= contiguous + 1:
            contiguous = max(contiguous, last)
        elif above and first <= above[-1][1] + 1:
            above[-1] = (above[-1][0], max(above[-1][1], last))
        else:
            above.append((first, last))
    return Received(contiguous, tuple(above))


def holes(received: Received) -> list[Range]:
    """The missing numbers below the highest received, as ranges."""
    out: list[Range] = []
    before = received.contiguous
    for first, last in received.above:
        out.append((before + 1, first - 1))
        before = last
    return out


def count(ranges: Iterable[Range]) -> int:
    """How many numbers the ranges hold."""
    return sum(last - first + 1 for first, last in ranges)


def missing_count(received: Received) -> int:
    return count(holes(received))


def above_from_json(text: str) -> tuple[Range, ...]:
    """`Received.above` from its stored form (JSON pairs; `[]` when complete)."""
    return () if text == "[]" else tuple((first, last) for first, last in json.loads(text))


def above_to_json(above: tuple[Range, ...]) -> str:
    return json.dumps(above) if above else "[]"


def advance(state: StoreSequence, seqs: Iterable[int], now: dt.datetime) -> StoreSequence:
    """The store's state after `seqs` arrived at `now`. The clock for asking starts when a hole
    first shows, and again whenever the lowest hole closes while others stay open."""
    received = merge(state.received, seqs)
    if not received.above:
        return StoreSequence(received)
    if state.holes_since is None or received.contiguous > state.received.contiguous:
        return StoreSequence(received, holes_since=now)
    return StoreSequence(received, state.holes_since, state.requests, state.requested_at)


def resend_due(state: StoreSequence, now: dt.datetime, policy: ResendPolicy,
               max_ranges: int = 10) -> list[Range]:
    """The ranges to ask the store for now (none while the holes are young, a request is recent,
    or the requests are used up); each at most MAX_RESEND_EVENTS long, at most `max_ranges`."""
    if state.holes_since is None or now - state.holes_since < policy.after:
        return []
    if state.requests >= policy.max_requests:
        return []
    if state.requested_at is not None and now - state.requested_at < policy.retry:
        return []
    out: list[Range] = []
    for first, last in holes(state.received):
        while first <= last and len(out) < max_ranges:
            out.append((first, min(last, first + MAX_RESEND_EVENTS - 1)))
            first += MAX_RESEND_EVENTS
    return out


def requested(state: StoreSequence, now: dt.datetime) -> StoreSequence:
    """`state` after a resend request went out at `now`."""
    return StoreSequence(state.received, state.holes_since, state.requests + 1, now)
