"""The writer's batches (collector.ingest.subscriber.take_batch): closed at `batch_messages`, or at
the commit interval counted from the first message's arrival, never from when the writer took it."""

from __future__ import annotations

import dataclasses
import queue
import time

import pytest

from collector.ingest.decode import decode_messages
from collector.ingest.subscriber import Delivered, take_batch
from tests.collector.helpers import COUNTY, box, message, receipt


class NothingMore(queue.Queue[Delivered]):
    """A queue that records each blocking get's allowed wait and answers it at once with Empty
    (no further message arrives), so that no test sleeps."""

    def __init__(self, *queued: Delivered) -> None:
        super().__init__()
        self.waits: list[float | None] = []
        for item in queued:
            self.put(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Delivered:
        if block:
            self.waits.append(timeout)
            raise queue.Empty
        return super().get(block=False)


def delivered(n: int, arrived: float | None) -> Delivered:
    chunk = [dataclasses.replace(message("S1", [receipt("S1", n, 0, box(n))]), arrived=arrived)]
    return chunk, decode_messages(chunk, COUNTY)


def test_a_first_message_that_waited_the_interval_closes_the_batch_with_what_is_queued() -> None:
    # it arrived while the writer committed the batch before: the interval has passed
    queued = NothingMore(delivered(2, time.monotonic() - 2.0), delivered(3, time.monotonic() - 1.5))
    messages, decoded = take_batch(delivered(1, time.monotonic() - 10.0), queued, batch_messages=200, interval_s=5.0)
    assert [e.seq for e in decoded.events] == [1, 2, 3]  # everything queued is taken, in order
    assert len(messages) == 3
    assert queued.waits == []  # and the writer never waits for more


def test_a_fresh_batch_waits_for_more_only_what_is_left_of_the_interval_since_its_arrival() -> None:
    queued = NothingMore()
    first_arrived = time.monotonic() - 30.0
    _, decoded = take_batch(delivered(1, first_arrived), queued, batch_messages=200, interval_s=60.0)
    assert [e.seq for e in decoded.events] == [1]
    assert len(queued.waits) == 1
    wait = queued.waits[0]
    assert wait is not None and wait <= 30.0  # counted from the arrival, not a whole interval from the take
    assert wait == pytest.approx(30.0, abs=5.0)


def test_a_message_whose_arrival_is_unknown_counts_from_when_it_is_taken() -> None:
    queued = NothingMore()
    take_batch(delivered(1, None), queued, batch_messages=200, interval_s=60.0)
    assert len(queued.waits) == 1
    wait = queued.waits[0]
    assert wait is not None and 55.0 < wait <= 60.0


def test_a_batch_stops_taking_at_batch_messages_and_leaves_the_rest_queued() -> None:
    now = time.monotonic()
    queued = NothingMore(delivered(2, now), delivered(3, now), delivered(4, now))
    messages, decoded = take_batch(delivered(1, now), queued, batch_messages=2, interval_s=60.0)
    assert [e.seq for e in decoded.events] == [1, 2]
    assert len(messages) == 2
    assert queued.qsize() == 2 and queued.waits == []
