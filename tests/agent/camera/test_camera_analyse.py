"""Per-frame analysis: region of interest, idle frames, stills, health short-circuit."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from agent.camera import synth
from agent.camera.analyse import Analyser, crop_roi
from agent.camera.health import Health
from agent.camera.source import Frame
from tests.agent.camera.conftest import noisy, replay_profile

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def _frames(images: list[np.ndarray], fps: float = 10.0) -> list[Frame]:
    return [Frame(image, T0 + dt.timedelta(seconds=i / fps), i, i / fps) for i, image in enumerate(images)]


def test_crop_roi() -> None:
    image = np.arange(100 * 200).reshape(100, 200)
    assert crop_roi(image, (0.0, 0.0, 1.0, 1.0)).shape == (100, 200)
    part = crop_roi(image, (0.5, 0.25, 0.25, 0.5))
    assert part.shape == (50, 50) and part[0, 0] == image[25, 100]


def test_an_idle_counter_is_decoded_only_every_nth_frame() -> None:
    nrng = np.random.default_rng(1)
    counter = synth.counter_scene(random.Random(1))
    analyser = Analyser(replay_profile("x.avi", analysis={"idle_decode_every": 5}))
    results = [analyser.analyse(f) for f in _frames([noisy(counter, nrng, 1.0) for _ in range(11)])]
    assert analyser.decoded_frames == 3          # frames 1, 6 and 11
    assert all(r.codes == () and r.health is Health.OK for r in results)


def test_a_code_in_view_is_decoded_on_every_frame(scene: synth.HardCase) -> None:
    nrng = np.random.default_rng(2)
    analyser = Analyser(replay_profile("x.avi"))
    results = [analyser.analyse(f) for f in _frames([noisy(scene.image, nrng, 1.0) for _ in range(6)])]
    assert analyser.decoded_frames == 6
    assert [r.codes for r in results] == [(scene.expected,)] * 6


def test_codes_outside_the_roi_are_not_read() -> None:
    rng = random.Random(3)
    code = synth.nmpa_code(rng)
    image = synth.place(synth.counter_scene(rng), synth.code128_patch(code), (330, 360), 0)
    left = Analyser(replay_profile("x.avi", analysis={"roi": [0.0, 0.0, 0.5, 1.0]}))
    right = Analyser(replay_profile("x.avi", analysis={"roi": [0.5, 0.0, 0.5, 1.0]}))
    [frame] = _frames([image])
    assert left.analyse(frame).codes == (code,)
    assert right.analyse(frame).codes == ()


def test_stills_are_kept_at_the_configured_interval(scene: synth.HardCase) -> None:
    nrng = np.random.default_rng(4)
    analyser = Analyser(replay_profile("x.avi", analysis={"still_every_s": 0.5}))
    results = [analyser.analyse(f) for f in _frames([noisy(scene.image, nrng) for _ in range(11)])]
    assert [i for i, r in enumerate(results) if r.still is not None] == [0, 5, 10]
    assert all(r.still.startswith(b"\xff\xd8") for r in results if r.still is not None)


def test_a_covered_camera_is_not_decoded() -> None:
    nrng = np.random.default_rng(5)
    analyser = Analyser(replay_profile("x.avi", health={"covered_after_s": 0.0}))
    results = [analyser.analyse(f) for f in _frames([noisy(np.full((720, 1280, 3), 5, np.uint8), nrng)] * 3)]
    assert [r.health for r in results] == [Health.COVERED] * 3
    assert analyser.decoded_frames == 0 and all(r.people == 0 for r in results)
    assert analyser.offline(T0).health is Health.OFFLINE
