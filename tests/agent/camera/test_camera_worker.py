"""The worker end to end on video files written in the test and read back through the real source."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from agent.camera import synth
from agent.camera.evidence import CameraEvidence, EvidenceWindow, summarise
from agent.camera.health import Health
from agent.camera.ring import FrameAnalysis
from agent.camera.still import StillStore
from agent.camera.worker import CameraWorker
from tests.agent.camera.conftest import VideoMaker, noisy, replay_profile

FPS = 10.0


def _with_code(rng: random.Random, code: str, base: np.ndarray, angle: float) -> np.ndarray:
    return synth.place(base, synth.code128_patch(code), (420, 380), angle)


def _astronaut_at_counter(base: np.ndarray) -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    out = base.copy()
    out[60:560, 700:1200] = cv2.resize(cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR), (500, 500))
    return out


def _run(worker: CameraWorker, timeout: float = 60.0) -> tuple[FrameAnalysis, ...]:
    worker.start()
    assert worker.finished.wait(timeout), "the replay did not finish"
    worker.stop()
    assert worker.error is None
    return worker.ring.snapshot()


def _segments(ring: tuple[FrameAnalysis, ...]) -> list[str]:
    out: list[str] = []
    for analysis in ring:
        if not out or out[-1] != analysis.health.value:
            out.append(analysis.health.value)
    return out


def test_a_counter_clip_gives_codes_people_and_then_covered_frozen_offline(make_video: VideoMaker) -> None:
    rng = random.Random(1)
    nrng = np.random.default_rng(1)
    code = synth.nmpa_code(rng)
    counter = _astronaut_at_counter(synth.counter_scene(rng))
    frames = [noisy(_with_code(rng, code, counter, 20 + i), nrng) for i in range(10)]
    frames += [noisy(np.full_like(counter, 8), nrng) for _ in range(8)]        # lens covered
    frames += [frames[3]] * 16                                                  # stream stuck on one picture
    path = make_video(frames, fps=FPS)
    profile = replay_profile(path, health={"covered_after_s": 0.3, "frozen_after_s": 1.0})
    ring = _run(CameraWorker(profile))

    # covered from the 4th dark frame (0.3 s); frozen once frames stayed identical for 1 s
    assert [a.health.value for a in ring] == (
        ["ok"] * 13 + ["covered"] * 5 + ["ok"] * 11 + ["frozen"] * 5 + ["offline"])
    assert all(a.codes == (code,) and a.people == 1 for a in ring[:10])
    assert all(a.codes == () and a.people == 0 for a in ring[13:18] + ring[29:])

    settled = ring[10].at
    evidence = CameraWorker(profile).evidence  # a fresh worker has an empty ring: offline
    assert evidence("S-0", settled, now=settled).camera_health == "offline"


def test_evidence_for_a_settlement_in_the_clip(make_video: VideoMaker, tmp_path: Path) -> None:
    rng = random.Random(2)
    nrng = np.random.default_rng(2)
    codes = [synth.nmpa_code(rng) for _ in range(2)]
    counter = _astronaut_at_counter(synth.counter_scene(rng))
    frames = [noisy(_with_code(rng, codes[i // 10], counter, 30), nrng) for i in range(20)]
    frames += [noisy(counter, nrng) for _ in range(10)]   # 3 s; settled at 2.25 s, window 0.25-2.75 s
    profile = replay_profile(make_video(frames, fps=FPS), evidence={"before_s": 2, "after_s": 0.5})
    worker = CameraWorker(profile)
    ring = _run(worker)
    stills = StillStore(tmp_path / "stills")

    settled = ring[22].at + dt.timedelta(seconds=0.05)   # between two frames: no rounding at the edges
    evidence = worker.evidence("S-1", settled, now=settled + dt.timedelta(seconds=1), stills=stills)
    assert evidence.setl_id == "S-1"
    assert evidence.window_start == settled - dt.timedelta(seconds=2)
    assert evidence.window_end == settled + dt.timedelta(seconds=0.5)
    assert evidence.frames_analysed == 25        # frames 3..27 at 0.1 s steps; the clip ends at 3.0 s
    assert evidence.frames_with_person == 25 and evidence.people_max == 1
    assert evidence.codes_seen == codes
    assert evidence.camera_health == "ok"
    assert 0.0 < evidence.motion_mean < 0.2
    assert evidence.still_image is not None and stills.path(evidence.still_image) is not None
    still = cv2.imdecode(np.frombuffer(stills.path(evidence.still_image).read_bytes(), np.uint8),  # type: ignore
                         cv2.IMREAD_COLOR)
    assert still.shape == (540, 960, 3)


def summarise_now(ring: tuple[FrameAnalysis, ...], settled: dt.datetime) -> CameraEvidence:
    """Evidence over 5 s before to 1 s after ``settled``, leaving out the end-of-file tick."""
    window = EvidenceWindow(before=dt.timedelta(seconds=5), after=dt.timedelta(seconds=1))
    return summarise([a for a in ring if a.health is not Health.OFFLINE], "S", settled,
                     settled + dt.timedelta(seconds=1), window)


def test_nobody_at_the_counter_is_seen_as_nobody(make_video: VideoMaker) -> None:
    rng = random.Random(3)
    nrng = np.random.default_rng(3)
    counter = synth.counter_scene(rng)
    path = make_video([noisy(counter, nrng) for _ in range(12)], fps=FPS)
    ring = _run(CameraWorker(replay_profile(path, presence={"detectors": ["face", "hog"]})))
    settled = ring[10].at
    evidence = summarise_now(ring, settled)
    assert (evidence.frames_analysed, evidence.frames_with_person, evidence.people_max) == (12, 0, 0)
    assert evidence.camera_health == "ok" and evidence.codes_seen == []


def test_the_camera_as_scanner_sends_each_box_once_per_presentation(make_video: VideoMaker) -> None:
    rng = random.Random(4)
    nrng = np.random.default_rng(4)
    a, b = synth.nmpa_code(rng), synth.nmpa_code(rng)
    counter = synth.counter_scene(rng)
    frames = [noisy(_with_code(rng, a, counter, 10 + i), nrng) for i in range(5)]      # A held up
    frames += [noisy(counter, nrng) for _ in range(2)]
    frames += [noisy(_with_code(rng, b, counter, -40), nrng) for _ in range(5)]        # then B
    frames += [noisy(counter, nrng) for _ in range(12)]                                 # 1.2 s away
    frames += [noisy(_with_code(rng, a, counter, 60), nrng) for _ in range(3)]         # A again: re-scan
    scans: list[str] = []
    profile = replay_profile(make_video(frames, fps=FPS),
                             scanner={"as_scanner": True, "confirm_frames": 2, "rearm_s": 1.0})
    _run(CameraWorker(profile, on_scan=scans.append))
    assert scans == [a, b, a]


def test_without_as_scanner_no_scans_are_sent(make_video: VideoMaker, scene: synth.HardCase) -> None:
    nrng = np.random.default_rng(5)
    scans: list[str] = []
    path = make_video([noisy(scene.image, nrng) for _ in range(5)], fps=FPS)
    ring = _run(CameraWorker(replay_profile(path), on_scan=scans.append))
    assert scans == [] and ring[0].codes == (scene.expected,)


def test_the_worker_runs_in_its_own_process(make_video: VideoMaker, scene: synth.HardCase) -> None:
    nrng = np.random.default_rng(6)
    path = make_video([noisy(scene.image, nrng) for _ in range(10)], fps=FPS)
    worker = CameraWorker(replay_profile(path, analysis={"mode": "process"}))
    ring = _run(worker, timeout=120)
    assert worker.pid is not None and worker.pid != threading.get_native_id()
    assert [a.codes for a in ring[:10]] == [(scene.expected,)] * 10
    assert ring[-1].health is Health.OFFLINE


class StuckCapture:
    """A camera whose driver hangs inside grab() until released."""

    def __init__(self, release: threading.Event, entered: threading.Event) -> None:
        self.release, self.entered = release, entered

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def grab(self) -> bool:
        self.entered.set()
        self.release.wait(30)
        return False

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


def test_reading_evidence_never_waits_for_a_stuck_camera() -> None:
    release, entered = threading.Event(), threading.Event()
    profile = replay_profile("rtsp://camera.invalid/1")
    worker = CameraWorker(profile, capture=lambda uri: StuckCapture(release, entered))
    worker.start()
    try:
        assert entered.wait(10), "the worker never reached the camera"
        started = time.monotonic()
        now = dt.datetime.now(dt.timezone.utc)
        evidence = worker.evidence("S-2", now, now=now)
        snapshot = worker.ring.snapshot()
        assert time.monotonic() - started < 0.5
        assert evidence.camera_health == "offline" and evidence.frames_analysed == 0 and snapshot == ()
        assert worker.health() is Health.OFFLINE
    finally:
        release.set()
        worker.stop()
