"""Covered, frozen and healthy cameras, from the frames themselves."""

from __future__ import annotations

import numpy as np
import pytest

from agent.camera.health import FrameStats, Health, HealthMonitor, HealthOptions, frame_stats, thumbnail, worst


def _feed(monitor: HealthMonitor, frames: list[np.ndarray], fps: float = 10.0) -> list[Health]:
    previous = None
    states = []
    for i, frame in enumerate(frames):
        thumb = thumbnail(frame)
        states.append(monitor.update(frame_stats(thumb, previous), i / fps))
        previous = thumb
    return states


def _live(scene: np.ndarray, count: int, sigma: float = 2.0, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.clip(scene + rng.normal(0, sigma, scene.shape), 0, 255).astype(np.uint8) for _ in range(count)]


@pytest.fixture
def textured() -> np.ndarray:
    y, x = np.mgrid[0:180, 0:320]
    return (120 + 60 * np.sin(x / 10.0) * np.cos(y / 14.0)).astype(np.float64)


def test_a_live_static_scene_stays_ok(textured: np.ndarray) -> None:
    assert set(_feed(HealthMonitor(), _live(textured, 80))) == {Health.OK}


def test_identical_frames_become_frozen_after_the_delay(textured: np.ndarray) -> None:
    frame = _live(textured, 1)[0]
    states = _feed(HealthMonitor(HealthOptions(frozen_after_s=5.0)), [frame] * 70)
    # frames 1.. are identical to their predecessor from t=0.1 s; frozen once 5 s have passed
    assert states[:51] == [Health.OK] * 51
    assert states[51:] == [Health.FROZEN] * 19


def test_a_frozen_camera_recovers_on_the_first_changed_frame(textured: np.ndarray) -> None:
    frame = _live(textured, 1)[0]
    states = _feed(HealthMonitor(HealthOptions(frozen_after_s=1.0)), [frame] * 20 + _live(textured, 3, seed=1))
    assert states[19] is Health.FROZEN
    assert states[20:] == [Health.OK] * 3


@pytest.mark.parametrize("level", [0.0, 12.0])
def test_dark_frames_are_covered(level: float) -> None:
    dark = _live(np.full((180, 320, 3), level), 40, sigma=3.0)
    states = _feed(HealthMonitor(HealthOptions(covered_after_s=2.0)), dark)
    assert states[:20] == [Health.OK] * 20
    assert states[20:] == [Health.COVERED] * 20


def test_a_uniform_bright_frame_is_covered_too() -> None:
    paper = _live(np.full((180, 320, 3), 230.0), 30, sigma=1.0)
    assert _feed(HealthMonitor(HealthOptions(covered_after_s=1.0)), paper)[-1] is Health.COVERED


def test_covered_wins_over_frozen_for_identical_dark_frames() -> None:
    black = np.zeros((180, 320, 3), np.uint8)
    states = _feed(HealthMonitor(HealthOptions(covered_after_s=1.0, frozen_after_s=1.0)), [black] * 30)
    assert states[-1] is Health.COVERED


def test_offline_resets_timers(textured: np.ndarray) -> None:
    monitor = HealthMonitor(HealthOptions(frozen_after_s=1.0))
    frame = _live(textured, 1)[0]
    _feed(monitor, [frame] * 8)
    assert monitor.offline() is Health.OFFLINE
    stats = frame_stats(thumbnail(frame), thumbnail(frame))
    assert monitor.update(stats, 100.0) is Health.OK
    assert monitor.update(stats, 100.5) is Health.OK
    assert monitor.update(stats, 101.0) is Health.FROZEN


def test_motion_is_the_share_of_changed_pixels() -> None:
    a = np.zeros((90, 160), np.uint8)
    b = a.copy()
    b[:45, :] = 200
    assert frame_stats(b, a) == FrameStats(mean=100.0, std=100.0, diff=100.0, motion=0.5)
    assert frame_stats(a, None).motion == 0.0


def test_worst_orders_states() -> None:
    assert worst([]) is Health.OK
    assert worst([Health.FROZEN, Health.COVERED, Health.OK]) is Health.COVERED
    assert worst([Health.COVERED, Health.OFFLINE]) is Health.OFFLINE
