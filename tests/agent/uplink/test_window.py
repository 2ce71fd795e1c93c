"""Batches in flight are acknowledged in seq order whatever order PUBACKs arrive in."""

from __future__ import annotations

import pytest

from agent.outbox import PendingEvent
from agent.uplink.window import InflightWindow, take_batch


def test_acks_move_the_watermark_only_over_a_contiguous_prefix() -> None:
    window = InflightWindow()
    window.add(7, 1, 10)
    window.add(8, 11, 20)
    window.add(9, 21, 25)
    assert window.ack(8) is None  # batch 2 before batch 1: nothing may be marked sent yet
    assert window.ack(99) is None  # unknown message id (the status message, an old connection)
    assert window.ack(7) == 20  # now both
    assert (len(window), window.first_seq, window.last_seq) == (1, 21, 25)
    assert window.ack(9) == 25
    assert (len(window), window.last_seq) == (0, None)


def test_a_message_id_in_flight_twice_is_a_bug() -> None:
    window = InflightWindow()
    window.add(1, 1, 1)
    with pytest.raises(ValueError, match="Expected a new MQTT message id, got 1 already in flight"):
        window.add(1, 2, 2)


@pytest.mark.parametrize(
    ("sizes", "max_count", "max_bytes", "expected"),
    [
        pytest.param([10, 10, 10], 2, 1000, 2, id="count-bound"),
        pytest.param([10, 10, 10], 10, 22, 2, id="byte-bound"),
        pytest.param([500, 10], 10, 100, 1, id="one-oversized-event-still-goes-alone"),
        pytest.param([], 10, 100, 0, id="empty"),
    ],
)
def test_take_batch_is_bounded_by_count_and_bytes(sizes: list[int], max_count: int, max_bytes: int,
                                                   expected: int) -> None:
    pending = [PendingEvent(i + 1, f"id{i}", b"x" * size) for i, size in enumerate(sizes)]
    assert take_batch(pending, max_count, max_bytes) == pending[:expected]
