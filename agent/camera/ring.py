"""A bounded, thread-safe ring of frame analyses (DOMAIN §5), newest last.

Writers append; readers take an immutable snapshot or wait on a condition, so nothing that
reads the ring (a settlement, a heartbeat) ever waits for a frame to be analysed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from agent.camera.health import Health

__all__ = ["FrameAnalysis", "Ring"]


@dataclass(frozen=True)
class FrameAnalysis:
    """What one analysed frame showed."""

    at: dt.datetime
    people: int
    codes: tuple[str, ...]
    motion: float
    health: Health
    still: bytes | None = None   # a JPEG, kept for some frames only (see the worker's still rate)


class Ring:
    """Keeps the latest ``capacity`` analyses."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"Expected a ring capacity of at least 1, got {capacity}")
        self._items: deque[FrameAnalysis] = deque(maxlen=capacity)
        self._changed = threading.Condition()
        self._appended = 0

    @property
    def capacity(self) -> int:
        """How many analyses the ring holds at most."""
        return self._items.maxlen or 0

    @property
    def appended(self) -> int:
        """How many analyses were ever appended (including those since dropped)."""
        return self._appended

    def append(self, analysis: FrameAnalysis) -> None:
        """Add one analysis, dropping the oldest when full, and wake waiters."""
        with self._changed:
            self._items.append(analysis)
            self._appended += 1
            self._changed.notify_all()

    def snapshot(self) -> tuple[FrameAnalysis, ...]:
        """The analyses held now, oldest first."""
        with self._changed:
            return tuple(self._items)

    def latest(self) -> FrameAnalysis | None:
        """The newest analysis, if any."""
        with self._changed:
            return self._items[-1] if self._items else None

    def wait_for(self, predicate: Callable[[tuple[FrameAnalysis, ...]], bool], timeout: float) -> bool:
        """Block until ``predicate(snapshot)`` holds or ``timeout`` seconds pass; returns whether it held."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(tuple(self._items)), timeout)
