"""Generated counter videos for the settlement-evidence tests: a counter with or without a customer
(scikit-image's astronaut photograph) and with boxes whose 20-digit codes face the camera."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from agent.camera import synth

WIDTH, HEIGHT = 640, 360


def _customer(scene: np.ndarray) -> np.ndarray:
    from skimage import data

    out = scene.copy()
    out[20:320, 330:630] = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (300, 300))
    return out


def counter_frames(seed: int, *, customer: bool, codes: Sequence[str] = (), frames: int = 30) -> list[np.ndarray]:
    """`frames` frames of one counter: each code held up in turn (tilted a little more each frame),
    fresh sensor noise on every frame so a live camera never looks frozen."""
    rng = random.Random(seed)
    scene = synth.counter_scene(rng, WIDTH, HEIGHT)
    if customer:
        scene = _customer(scene)
    noise = np.random.default_rng(seed)
    out = []
    for index in range(frames):
        frame = scene
        if codes:
            code = codes[(index * len(codes)) // frames]
            frame = synth.place(scene, synth.code128_patch(code, 1.4), (175, 250), 5 + index % 10)
        jitter = noise.normal(0, 2.0, frame.shape)
        out.append(np.clip(frame.astype(np.float32) + jitter, 0, 255).astype(np.uint8))
    return out


def write_video(path: Path, frames: Sequence[np.ndarray], fps: float = 10.0, repeat: int = 1) -> Path:
    """An MJPG .avi of `frames`, played `repeat` times over (a looping file source reports one frameless,
    offline tick at each wrap, so a clip that must look live for a whole test is written long enough)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), "VideoWriter could not open an MJPG .avi"
    for _ in range(repeat):
        for frame in frames:
            writer.write(frame)
    writer.release()
    return path


def profile_toml(path: Path, *, before_s: float = 4.0, after_s: float = 1.0, rate: float = 5.0) -> Path:
    """A replay profile: the video loops in real time like a live camera, analysed in a thread."""
    path.write_text(f"""
name = "test-counter"
[source]
uri = "set-by-the-agent-config"
realtime = true
loop = true
max_fps = 10.0
[analysis]
rate = {rate}
mode = "thread"
presence_every_s = 0.2
still_every_s = 0.5
ring_seconds = 30
[presence]
detectors = ["face"]
[evidence]
before_s = {before_s}
after_s = {after_s}
max_gap_s = 3
""", encoding="utf-8")
    return path
