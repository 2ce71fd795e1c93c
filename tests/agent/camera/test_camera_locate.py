"""Candidate regions and upright crops."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from agent.camera import synth
from agent.camera.locate import find_regions, square_crop, upright_crop


def _bar_angle(angle: float) -> float:
    """Fold a direction to [0, 180)."""
    return angle % 180.0


@pytest.mark.parametrize("tilt", [0, 15, 30, 45, 60, 75, 90, -30])
def test_finds_a_linear_code_and_its_direction(tilt: float) -> None:
    rng = random.Random(tilt)
    scene = synth.place(synth.counter_scene(rng), synth.code128_patch(synth.nmpa_code(rng)), (640, 360), tilt)
    gray = cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY)
    best = find_regions(gray)[0]
    assert abs(best.cx - 640) < 40 and abs(best.cy - 360) < 40
    assert best.coherence > 0.7
    # place() rotates counter-clockwise on screen; the reading direction turns by -tilt
    error = abs(_bar_angle(best.angle) - _bar_angle(-tilt))
    assert min(error, 180 - error) < 4


def test_upright_crop_stands_the_bars_vertical() -> None:
    rng = random.Random(3)
    scene = synth.place(synth.counter_scene(rng), synth.code128_patch(synth.nmpa_code(rng)), (640, 360), 40)
    gray = cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY)
    crop = upright_crop(gray, find_regions(gray)[0]).astype(np.float32)
    middle = crop[crop.shape[0] // 3: 2 * crop.shape[0] // 3]
    # bars vertical: strong change along rows, little down the columns
    across = np.abs(np.diff(middle, axis=1)).mean()
    down = np.abs(np.diff(middle, axis=0)).mean()
    assert crop.shape[1] > 2 * crop.shape[0]
    assert across > 4 * down


def test_datamatrix_region_is_not_linear() -> None:
    rng = random.Random(4)
    hri, _ = synth.gs1_code(rng)
    scene = synth.place(synth.counter_scene(rng), synth.datamatrix_patch(hri), (400, 300), 25)
    gray = cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY)
    square = [r for r in find_regions(gray) if r.coherence < 0.55]
    best = min(square, key=lambda r: abs(r.cx - 400) + abs(r.cy - 300))
    assert abs(best.cx - 400) < 40 and abs(best.cy - 300) < 40
    crop = square_crop(gray, best)
    assert crop.shape[0] > 60 and crop.shape[1] > 60


def test_flat_and_noisy_frames_give_no_code_sized_regions() -> None:
    flat = np.full((720, 1280), 120, np.uint8)
    noise = np.random.default_rng(1).normal(120, 10, (720, 1280)).clip(0, 255).astype(np.uint8)
    assert find_regions(flat) == []
    assert find_regions(noise) == []


def test_refuses_colour_input() -> None:
    with pytest.raises(ValueError, match="Expected a 2-D grey image"):
        find_regions(np.zeros((10, 10, 3), np.uint8))
