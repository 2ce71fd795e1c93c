"""The decode pipeline on generated counter scenes."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from agent.camera import synth
from agent.camera.decode import DecodePipeline, PipelineOptions
from agent.camera.decoders import Symbology


def _read(pipeline: DecodePipeline, case: synth.HardCase) -> list[str]:
    return [d.text[3:] if d.text.startswith("]") else d.text for d in pipeline.decode(case.image)]


@pytest.fixture(scope="module")
def pipeline() -> DecodePipeline:
    return DecodePipeline()


@pytest.mark.parametrize("symbology", ["code128", "datamatrix"])
@pytest.mark.parametrize("variant", list(synth.VARIANTS))
def test_reads_every_variant(pipeline: DecodePipeline, symbology: str, variant: str) -> None:
    rng = random.Random(f"{symbology}-{variant}")
    cases = [synth.scene_with_code(rng, symbology, variant) for _ in range(2)]
    results = [_read(pipeline, case) for case in cases]
    assert results == [[case.expected] for case in cases]


def test_tilted_code128_success_rate_at_least_nine_in_ten(pipeline: DecodePipeline) -> None:
    cases = synth.hard_set(seed=21, per_variant=3, symbologies=("code128",), variants=synth.TILTED)
    read = sum(case.expected in _read(pipeline, case) for case in cases)
    assert read / len(cases) >= 0.9


def test_no_code_is_invented_on_scenes_without_codes(pipeline: DecodePipeline) -> None:
    rng = random.Random(22)
    for _ in range(8):
        scene = synth.degrade(synth.counter_scene(rng), rng, noise=rng.choice([2.0, 8.0]), jpeg=50)
        assert pipeline.decode(scene) == []


def test_two_codes_in_one_frame_are_both_read(pipeline: DecodePipeline) -> None:
    rng = random.Random(23)
    first, second = synth.nmpa_code(rng), synth.nmpa_code(rng)
    hri, raw = synth.gs1_code(rng)
    scene = synth.counter_scene(rng)
    scene = synth.place(scene, synth.code128_patch(first), (350, 200), 20)
    scene = synth.place(scene, synth.code128_patch(second), (900, 520), -50)
    scene = synth.place(scene, synth.datamatrix_patch(hri), (1100, 150), 33)
    found = {d.text: d for d in pipeline.decode(synth.degrade(scene, rng))}
    assert set(found) == {first, second, "]d2" + raw}
    assert found[first].symbology is Symbology.CODE128
    assert abs(found[first].x - 350) < 60 and abs(found[first].y - 200) < 60
    assert found["]d2" + raw].symbology is Symbology.DATAMATRIX


def test_disabled_symbology_is_not_reported() -> None:
    rng = random.Random(24)
    case = synth.scene_with_code(rng, "datamatrix", "upright")
    assert DecodePipeline(PipelineOptions(datamatrix=False)).decode(case.image) == []
    case = synth.scene_with_code(rng, "code128", "tilt30")
    assert DecodePipeline(PipelineOptions(code128=False)).decode(case.image) == []


def test_full_frame_pass_runs_every_nth_frame() -> None:
    rng = random.Random(25)
    case = synth.scene_with_code(rng, "code128", "upright")
    blank = np.full_like(case.image, 128)
    pipeline = DecodePipeline(PipelineOptions(full_frame_every=2))
    # a grey frame has no regions, so only the full-frame pass could read anything: nothing to read
    assert [pipeline.analyse(blank).codes for _ in range(2)] == [(), ()]
    assert [d.text for d in pipeline.decode(case.image)] == [case.expected]


def test_accepts_grey_and_bgr(pipeline: DecodePipeline, scene: synth.HardCase) -> None:
    gray = cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY)
    assert _read(pipeline, scene) == [scene.expected]
    assert [d.text for d in pipeline.decode(gray)] == [scene.expected]
