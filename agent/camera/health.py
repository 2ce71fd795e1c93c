"""Camera health from the frames themselves: covered (dark or uniform), frozen (identical), offline.

Frames are compared as small grey thumbnails, so a live sensor's noise averages out but never
vanishes: only a stuck pipeline or a still picture gives frames that are identical for seconds.
The monitor is a small state machine fed with frame statistics and a monotonic time.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Health", "HealthOptions", "FrameStats", "HealthMonitor", "thumbnail", "frame_stats", "worst"]


class Health(enum.Enum):
    """Camera state; values match the camera-evidence event's ``camera_health``."""

    OK = "ok"
    FROZEN = "frozen"
    COVERED = "covered"
    OFFLINE = "offline"

    @property
    def severity(self) -> int:
        """Order used to pick the worst state of a window: ok < frozen < covered < offline."""
        return _SEVERITY[self]


_SEVERITY = {Health.OK: 0, Health.FROZEN: 1, Health.COVERED: 2, Health.OFFLINE: 3}


def worst(states: Iterable[Health]) -> Health:
    """The most severe state, OK for none.

    >>> worst([Health.OK, Health.FROZEN, Health.OK]).value
    'frozen'
    """
    return max(states, key=lambda h: h.severity, default=Health.OK)


# Timers compare differences of monotonic seconds: (t0 + 1.3) - (t0 + 1.0) can come out a hair under
# 0.3 when t0 is large (a long uptime), so a limit counts as reached within a microsecond.
_TICK = 1e-6


@dataclass(frozen=True)
class HealthOptions:
    """Thresholds on a 0-255 grey scale; durations in seconds."""

    dark_level: float = 25.0        # mean below this: covered (lens capped, lights off)
    uniform_std: float = 6.0        # spread below this: covered (taped, pointed at a wall)
    covered_after_s: float = 2.0
    frozen_tolerance: float = 0.02  # mean absolute difference treated as "identical"
    frozen_after_s: float = 5.0
    motion_level: int = 15          # per-pixel change that counts as motion
    thumb_width: int = 160


@dataclass(frozen=True)
class FrameStats:
    """Brightness, spread, difference from the previous frame and share of moving pixels."""

    mean: float
    std: float
    diff: float | None
    motion: float


def thumbnail(image: np.ndarray, width: int = 160) -> np.ndarray:
    """Small grey copy of a BGR or grey frame."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    height = max(1, round(gray.shape[0] * width / gray.shape[1]))
    return cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)


def frame_stats(thumb: np.ndarray, previous: np.ndarray | None, motion_level: int = 15) -> FrameStats:
    """Statistics of one thumbnail against the previous one (None for the first frame)."""
    mean, std = cv2.meanStdDev(thumb)
    if previous is None or previous.shape != thumb.shape:
        return FrameStats(float(mean[0, 0]), float(std[0, 0]), None, 0.0)
    delta = cv2.absdiff(thumb, previous)
    return FrameStats(float(mean[0, 0]), float(std[0, 0]), float(delta.mean()),
                      float(np.count_nonzero(delta > motion_level)) / delta.size)


class HealthMonitor:
    """Turns a stream of :class:`FrameStats` into a :class:`Health` with persistence timers."""

    def __init__(self, options: HealthOptions = HealthOptions()) -> None:
        self.options = options
        self._covered_since: float | None = None
        self._identical_since: float | None = None
        self.state = Health.OK

    def update(self, stats: FrameStats, now: float) -> Health:
        """Feed one frame's statistics at monotonic time ``now``; returns the new state."""
        opts = self.options
        covered = stats.mean < opts.dark_level or stats.std < opts.uniform_std
        self._covered_since = (self._covered_since if self._covered_since is not None else now) if covered else None
        identical = stats.diff is not None and stats.diff <= opts.frozen_tolerance
        if identical:
            self._identical_since = self._identical_since if self._identical_since is not None else now
        elif stats.diff is not None:
            self._identical_since = None
        if self._covered_since is not None and now - self._covered_since >= opts.covered_after_s - _TICK:
            self.state = Health.COVERED
        elif self._identical_since is not None and now - self._identical_since >= opts.frozen_after_s - _TICK:
            self.state = Health.FROZEN
        else:
            self.state = Health.OK
        return self.state

    def offline(self) -> Health:
        """Record that no frame could be read; timers restart when frames come back."""
        self._covered_since = None
        self._identical_since = None
        self.state = Health.OFFLINE
        return self.state
