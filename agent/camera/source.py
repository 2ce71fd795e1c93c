"""Frames from OpenCV ``VideoCapture``: a device index, an RTSP/HTTP URL or a video file.

Live sources are read as fast as they deliver and thinned to ``max_fps`` (``grab`` without
``retrieve`` keeps the driver's buffer drained, so the frame returned is the newest). A lost
source is reopened with a doubling back-off. A video file replays either in real time, like a
camera, or frame by frame with timestamps taken from the file (for tests and benchmarks).
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from agent.camera.errors import SourceError

__all__ = ["SourceKind", "SourceOptions", "Frame", "CameraSource", "source_kind"]


class SourceKind(enum.Enum):
    """What a source URI names."""

    DEVICE = "device"
    STREAM = "stream"
    FILE = "file"


def source_kind(uri: str | int) -> SourceKind:
    """Classify a source URI.

    >>> source_kind(0).value, source_kind("rtsp://cam/1").value, source_kind("counter.mp4").value
    ('device', 'stream', 'file')
    """
    if isinstance(uri, int) or str(uri).isdigit():
        return SourceKind.DEVICE
    if "://" in str(uri):
        return SourceKind.STREAM
    return SourceKind.FILE


@dataclass(frozen=True)
class SourceOptions:
    """Where frames come from and how fast."""

    uri: str | int
    max_fps: float = 10.0
    realtime: bool = True          # files only: False steps through frames with file timestamps
    loop: bool = False             # files only: start again at the end
    width: int = 0                 # ask the device for a size (0 = leave as is)
    height: int = 0
    reconnect_s: float = 1.0
    reconnect_max_s: float = 30.0


@dataclass(frozen=True)
class Frame:
    """One frame: BGR pixels, wall-clock time (aware), its index since the source opened, and a
    monotonic time in seconds for timers (the file's own clock when a file is stepped through)."""

    image: np.ndarray
    at: dt.datetime
    index: int
    mono: float


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class CameraSource:
    """A reconnecting, rate-capped frame source. Not thread-safe: one reader at a time."""

    def __init__(self, options: SourceOptions, clock: Callable[[], dt.datetime] = _utc_now,
                 monotonic: Callable[[], float] = time.monotonic,
                 capture: Callable[[str | int], cv2.VideoCapture] | None = None) -> None:
        if options.max_fps <= 0:
            raise SourceError(f"Expected max_fps above 0, got {options.max_fps}")
        self.options = options
        self.kind = source_kind(options.uri)
        if self.kind is SourceKind.FILE and not os.path.exists(str(options.uri)):
            raise SourceError(f"Expected a readable video file, got {str(options.uri)!r}: no such file")
        self._clock = clock
        self._monotonic = monotonic
        self._capture = capture or _open_capture
        self._cap: cv2.VideoCapture | None = None
        self._next_attempt = 0.0
        self._backoff = options.reconnect_s
        self._next_due = 0.0
        self._index = 0
        self._file_fps = 0.0
        self._file_start: dt.datetime | None = None
        self._opened_at = 0.0
        self._last_at: dt.datetime | None = None
        self.ended = False
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        """True while a capture is open."""
        return self._cap is not None

    def read(self) -> Frame | None:
        """The next frame, or None while the source is lost (a reopen is attempted when due)."""
        if self.ended:
            return None
        if self._cap is None and not self._reopen():
            return None
        assert self._cap is not None
        frame = self._read_file() if self.kind is SourceKind.FILE else self._read_live()
        if frame is None:
            self._lost()
            if self.kind is SourceKind.FILE and self.options.loop and self._reopen():
                frame = self._read_file()  # a looping replay wraps without an "offline" gap
        return frame

    def now(self) -> dt.datetime:
        """The source's current time: the wall clock, or for a stepped file just after its last frame."""
        if self.kind is SourceKind.FILE and not self.options.realtime and self._last_at is not None:
            return self._last_at + dt.timedelta(seconds=1.0 / (self._file_fps or self.options.max_fps))
        return self._clock()

    def close(self) -> None:
        """Release the capture."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _reopen(self) -> bool:
        now = self._monotonic()
        if now < self._next_attempt:
            return False
        uri = int(self.options.uri) if self.kind is SourceKind.DEVICE else self.options.uri
        cap = self._capture(uri)
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            self._next_attempt = now + self._backoff
            self._backoff = min(self._backoff * 2, self.options.reconnect_max_s)
            return False
        if self.options.width and self.options.height and self.kind is SourceKind.DEVICE:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.options.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.options.height)
        self._cap = cap
        self._backoff = self.options.reconnect_s
        self._file_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or self.options.max_fps
        self._file_start = self._clock()
        self._opened_at = now
        self._next_due = now
        self.reconnects += 1
        return True

    def _lost(self) -> None:
        self.close()
        if self.kind is SourceKind.FILE and not self.options.loop:
            self.ended = True
        self._next_attempt = self._monotonic() + (0.0 if self.kind is SourceKind.FILE else self._backoff)

    def _read_live(self) -> Frame | None:
        assert self._cap is not None
        while True:
            if not self._cap.grab():
                return None
            if self._monotonic() >= self._next_due:
                break
        ok, image = self._cap.retrieve()
        if not ok or image is None:
            return None
        now = self._monotonic()
        self._next_due = now + 1.0 / self.options.max_fps
        return self._frame(image, self._clock(), now)

    def _read_file(self) -> Frame | None:
        assert self._cap is not None and self._file_start is not None
        fps = self._file_fps
        step = max(1, round(fps / self.options.max_fps))
        if self.options.realtime:
            # skip to the frame that belongs to the current wall time, then wait for its turn
            target = int((self._monotonic() - self._opened_at) * fps)
            pos = int(self._cap.get(cv2.CAP_PROP_POS_FRAMES))
            for _ in range(max(0, target - pos)):
                if not self._cap.grab():
                    return None
        else:
            pos = int(self._cap.get(cv2.CAP_PROP_POS_FRAMES))
            if pos % step:
                for _ in range(step - pos % step):
                    if not self._cap.grab():
                        return None
        pos = int(self._cap.get(cv2.CAP_PROP_POS_FRAMES))
        ok, image = self._cap.read()
        if not ok or image is None:
            return None
        if self.options.realtime:
            return self._frame(image, self._clock(), self._monotonic())
        offset = pos / fps
        return self._frame(image, self._file_start + dt.timedelta(seconds=offset), self._opened_at + offset)

    def _frame(self, image: np.ndarray, at: dt.datetime, mono: float) -> Frame:
        frame = Frame(image, at, self._index, mono)
        self._last_at = at
        self._index += 1
        return frame


def _open_capture(uri: str | int) -> cv2.VideoCapture:
    return cv2.VideoCapture(uri)
