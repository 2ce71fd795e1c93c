"""Fixtures for the camera tests: generated scenes and video files written with cv2.VideoWriter."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest

from agent.camera import synth
from agent.camera.profile import CameraProfile, parse_profile

VideoMaker = Callable[..., Path]


def noisy(image: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """A copy of ``image`` with fresh sensor noise, as a live camera gives for a still scene."""
    noise = np.empty(image.shape, np.int16)
    cv2.setRNGSeed(int(rng.integers(2**31)))
    cv2.randn(noise.reshape(image.shape[0], -1), 0, sigma)
    return cv2.add(image.astype(np.int16), noise, dtype=cv2.CV_8U) if image.dtype == np.uint8 else image


@pytest.fixture
def make_video(tmp_path: Path) -> VideoMaker:
    """Write frames to an MJPG .avi (or mp4v .mp4) in tmp_path and return its path."""
    counter = iter(range(1000))

    def make(frames: Iterable[np.ndarray], fps: float = 10.0, suffix: str = ".avi") -> Path:
        frames = list(frames)
        height, width = frames[0].shape[:2]
        path = tmp_path / f"clip{next(counter)}{suffix}"
        fourcc = cv2.VideoWriter_fourcc(*("MJPG" if suffix == ".avi" else "mp4v"))
        writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
        assert writer.isOpened(), f"VideoWriter could not open {suffix}"
        for frame in frames:
            writer.write(frame)
        writer.release()
        return path

    return make


@pytest.fixture
def scene() -> synth.HardCase:
    """A counter scene with one upright 20-digit Code128."""
    return synth.scene_with_code(random.Random(11), "code128", "upright")


def replay_profile(path: Path | str, **sections: dict[str, object]) -> CameraProfile:
    """A profile that steps through a video file as fast as it can, in thread mode."""
    data: dict[str, object] = {
        "name": "test",
        "source": {"uri": str(path), "realtime": False, "max_fps": 10.0},
        "analysis": {"rate": 1000.0, "mode": "thread", "presence_every_s": 0.3, "still_every_s": 0.5},
        "presence": {"detectors": ["face"]},
    }
    for name, table in sections.items():
        merged = dict(data.get(name, {}))  # type: ignore[arg-type]
        merged.update(table)
        data[name] = merged
    return parse_profile(data)
