"""People detection on real photographs shipped with scikit-image."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from agent.camera import synth
from agent.camera.presence import PersonDetector, PresenceDetector, PresenceOptions

data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def detector() -> PresenceDetector:
    return PresenceDetector()


def _astronaut(size: int) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (size, size))


def test_the_astronaut_is_one_person(detector: PresenceDetector) -> None:
    assert detector.count(_astronaut(512)) == 1
    found = detector.boxes(_astronaut(512))
    assert len(found[PersonDetector.FACE]) == 1
    assert len(found[PersonDetector.HOG]) == 1


def test_people_standing_at_a_counter_are_counted(detector: PresenceDetector) -> None:
    counter = synth.counter_scene(random.Random(1))
    assert detector.count(counter) == 0
    one = counter.copy()
    one[100:600, 80:580] = _astronaut(500)
    assert detector.count(one) == 1
    two = one.copy()
    two[100:600, 700:1200] = _astronaut(500)
    assert detector.count(two) == 2


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket", "coins", "brick", "grass", "page", "clock",
                                  "horse", "cell"])
def test_photographs_without_people_have_nobody(detector: PresenceDetector, name: str) -> None:
    image = getattr(data, name)()
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    assert detector.count(image) == 0


def test_faces_of_the_lfw_subset_are_found_and_non_faces_are_not() -> None:
    faces_only = PresenceDetector(PresenceOptions(detectors=(PersonDetector.FACE,)))
    images = data.lfw_subset()  # 100 faces, then 100 non-faces, 25x25 grey in [0, 1]

    def found(image: np.ndarray) -> bool:
        grey = cv2.resize((image * 255).astype(np.uint8), (100, 100), interpolation=cv2.INTER_CUBIC)
        return faces_only.count(cv2.copyMakeBorder(grey, 30, 30, 30, 30, cv2.BORDER_REPLICATE)) > 0

    hits = [found(image) for image in images[::2]]  # every other image keeps the test short
    assert sum(hits[:50]) >= 45
    assert sum(hits[50:]) <= 2


def test_a_blank_or_tiny_frame_has_nobody(detector: PresenceDetector) -> None:
    assert detector.count(np.zeros((720, 1280, 3), np.uint8)) == 0
    assert detector.count(np.full((64, 64), 200, np.uint8)) == 0
