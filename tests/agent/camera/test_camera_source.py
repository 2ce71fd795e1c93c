"""The video source on real files written with cv2.VideoWriter, and reconnection on a fake capture."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from agent.camera.errors import SourceError
from agent.camera.source import CameraSource, SourceKind, SourceOptions, source_kind
from tests.agent.camera.conftest import VideoMaker

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


def _numbered(count: int, size: tuple[int, int] = (160, 320)) -> list[np.ndarray]:
    """Frames whose brightness encodes their index (10, 20, 30, ...)."""
    return [np.full((*size, 3), 10 * (i + 1), np.uint8) for i in range(count)]


def _drain(source: CameraSource) -> list:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    return frames


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_a_file_is_read_back_with_file_timestamps(make_video: VideoMaker, suffix: str) -> None:
    path = make_video(_numbered(12), fps=10, suffix=suffix)
    source = CameraSource(SourceOptions(str(path), max_fps=10, realtime=False), clock=lambda: T0)
    frames = _drain(source)
    assert len(frames) == 12
    assert [f.index for f in frames] == list(range(12))
    assert [round(float(f.image.mean()) / 10) for f in frames] == list(range(1, 13))
    assert [f.at - T0 for f in frames] == [dt.timedelta(seconds=i / 10) for i in range(12)]
    assert source.ended and not source.connected


def test_max_fps_thins_a_faster_file(make_video: VideoMaker) -> None:
    path = make_video(_numbered(20), fps=20)
    frames = _drain(CameraSource(SourceOptions(str(path), max_fps=5, realtime=False), clock=lambda: T0))
    assert [round(float(f.image.mean()) / 10) for f in frames] == [1, 5, 9, 13, 17]
    assert [f.at - T0 for f in frames] == [dt.timedelta(seconds=s) for s in (0, 0.2, 0.4, 0.6, 0.8)]


def test_a_looping_file_starts_again(make_video: VideoMaker) -> None:
    path = make_video(_numbered(3), fps=10)
    source = CameraSource(SourceOptions(str(path), realtime=False, loop=True))
    seen = []
    for _ in range(8):
        frame = source.read()
        seen.append(None if frame is None else round(float(frame.image.mean()) / 10))
    # the end of the file wraps to its start at once: a looping replay shows no offline gap
    assert seen == [1, 2, 3, 1, 2, 3, 1, 2]
    assert not source.ended


def test_a_missing_file_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="Expected a readable video file, got '.*nowhere.avi': no such file"):
        CameraSource(SourceOptions(str(tmp_path / "nowhere.avi")))


def test_max_fps_must_be_positive(make_video: VideoMaker) -> None:
    with pytest.raises(SourceError, match="Expected max_fps above 0, got 0"):
        CameraSource(SourceOptions(str(make_video(_numbered(1))), max_fps=0))


@pytest.mark.parametrize(("uri", "kind"), [
    (0, SourceKind.DEVICE), ("2", SourceKind.DEVICE), ("rtsp://10.0.0.9/stream1", SourceKind.STREAM),
    ("http://cam.local/mjpg", SourceKind.STREAM), ("replay/counter.mp4", SourceKind.FILE),
])
def test_source_kinds(uri: str | int, kind: SourceKind) -> None:
    assert source_kind(uri) is kind


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeCapture:
    """A capture that delivers ``frames`` frames, then fails like an unplugged camera."""

    def __init__(self, opened: bool, frames: int, clock: Clock | None = None) -> None:
        self.opened, self.frames, self.released, self.clock = opened, frames, False, clock

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def grab(self) -> bool:
        if self.clock is not None:
            self.clock.now += 0.01   # each frame takes time to arrive
        self.frames -= 1
        return self.frames >= 0

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, np.zeros((4, 4, 3), np.uint8)

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        self.released = True


def test_a_lost_stream_reconnects_with_doubling_backoff() -> None:
    clock = Clock()
    plan = [FakeCapture(True, 2, clock), FakeCapture(False, 0), FakeCapture(False, 0), FakeCapture(True, 5, clock)]
    opened: list[str | int] = []

    def capture(uri: str | int) -> FakeCapture:
        opened.append(uri)
        return plan.pop(0)

    source = CameraSource(SourceOptions("rtsp://camera/1", max_fps=1000, reconnect_s=1.0), monotonic=clock,
                          capture=capture)
    assert source.read() is not None and source.read() is not None
    assert source.read() is None and not source.connected          # stream dropped at t=0.03
    assert source.read() is None and len(opened) == 1              # back-off: not yet due
    clock.now = 1.1
    assert source.read() is None and len(opened) == 2              # reopen fails, next in 1 s
    clock.now = 2.0
    assert source.read() is None and len(opened) == 2
    clock.now = 2.2
    assert source.read() is None and len(opened) == 3              # fails again, next in 2 s
    clock.now = 4.1
    assert source.read() is None and len(opened) == 3
    clock.now = 4.3
    assert source.read() is not None and source.connected
    assert opened == ["rtsp://camera/1"] * 4
    assert source.reconnects == 2


def test_a_device_index_is_opened_as_an_integer() -> None:
    opened: list[str | int] = []

    def capture(uri: str | int) -> FakeCapture:
        opened.append(uri)
        return FakeCapture(True, 1)

    CameraSource(SourceOptions("0"), capture=capture).read()
    assert opened == [0]


def test_live_frames_are_thinned_to_max_fps() -> None:
    clock = Clock()
    cap = FakeCapture(True, 100)
    grabs = []
    original = cap.grab

    def grab() -> bool:
        clock.now += 0.04          # a 25 fps camera
        grabs.append(clock.now)
        return original()

    cap.grab = grab  # type: ignore[method-assign]
    source = CameraSource(SourceOptions(1, max_fps=5), monotonic=clock, capture=lambda uri: cap)
    frames = [source.read() for _ in range(4)]
    times = [f.mono for f in frames if f is not None]
    # one frame per 0.2 s (the next 25 fps frame after it is due); the grabs between drain the buffer
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 3 and all(0.2 - 1e-9 <= gap <= 0.24 + 1e-9 for gap in gaps)
    assert 16 <= len(grabs) <= 17
