"""The ring of frame analyses."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from agent.camera.health import Health
from agent.camera.ring import FrameAnalysis, Ring

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def _a(i: int) -> FrameAnalysis:
    return FrameAnalysis(T0 + dt.timedelta(seconds=i), i % 3, (), 0.0, Health.OK)


def test_keeps_the_latest_capacity_items() -> None:
    ring = Ring(3)
    for i in range(5):
        ring.append(_a(i))
    assert ring.snapshot() == (_a(2), _a(3), _a(4))
    assert ring.latest() == _a(4)
    assert ring.appended == 5 and ring.capacity == 3


def test_empty_ring() -> None:
    ring = Ring(2)
    assert ring.snapshot() == () and ring.latest() is None
    assert ring.wait_for(lambda s: len(s) > 0, timeout=0.01) is False


def test_wait_for_wakes_on_append_from_another_thread() -> None:
    ring = Ring(10)
    writer = threading.Thread(target=lambda: [ring.append(_a(i)) for i in range(4)])
    writer.start()
    assert ring.wait_for(lambda s: len(s) == 4, timeout=10)
    writer.join()


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="Expected a ring capacity of at least 1, got 0"):
        Ring(0)
