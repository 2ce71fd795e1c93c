"""People at the counter, counted with detectors shipped inside OpenCV (nothing is downloaded).

OpenCV 4.x ships Haar cascades under ``cv2.data.haarcascades`` and a trained HOG people detector;
OpenCV 5 moved both out of the main wheel, so the camera needs ``opencv-python-headless<5``.
A frame's people count is the largest count any enabled detector gives (a face and a body of one
person are not added up).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

import cv2
import numpy as np

from agent.camera.errors import DetectorUnavailable

__all__ = ["PersonDetector", "PresenceOptions", "PresenceDetector"]


class PersonDetector(enum.Enum):
    """Detectors a profile may enable."""

    FACE = "face"            # frontal faces: haarcascade_frontalface_alt2
    PROFILE = "profile"      # faces in profile: haarcascade_profileface
    UPPERBODY = "upperbody"  # head and shoulders: haarcascade_upperbody
    HOG = "hog"              # standing people: HOG + linear SVM (Dalal-Triggs)


_CASCADES = {
    PersonDetector.FACE: "haarcascade_frontalface_alt2.xml",
    PersonDetector.PROFILE: "haarcascade_profileface.xml",
    PersonDetector.UPPERBODY: "haarcascade_upperbody.xml",
}


@dataclass(frozen=True)
class PresenceOptions:
    """Which detectors run and their thresholds; sizes are in pixels of the analysed image."""

    detectors: tuple[PersonDetector, ...] = (PersonDetector.FACE, PersonDetector.HOG)
    width: int = 480              # frames are shrunk to this width before detection
    scale_factor: float = 1.15    # cascade pyramid step
    min_neighbors: int = 5        # cascade votes needed; higher = fewer false people
    min_size: int = 30            # smallest face or body side
    hog_min_weight: float = 0.5   # SVM score a HOG detection must exceed


class PresenceDetector:
    """Counts people in BGR or grey frames."""

    def __init__(self, options: PresenceOptions = PresenceOptions()) -> None:
        self.options = options
        self._cascades: list[tuple[PersonDetector, cv2.CascadeClassifier]] = []
        self._hog: cv2.HOGDescriptor | None = None
        for detector in options.detectors:
            if detector is PersonDetector.HOG:
                self._hog = _hog()
            else:
                self._cascades.append((detector, _cascade(_CASCADES[detector])))

    def boxes(self, image: np.ndarray) -> dict[PersonDetector, list[tuple[int, int, int, int]]]:
        """Detections per detector as (x, y, w, h) in the analysed (shrunk) image."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if gray.shape[1] > self.options.width:
            scale = self.options.width / gray.shape[1]
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        opts = self.options
        found: dict[PersonDetector, list[tuple[int, int, int, int]]] = {}
        if self._cascades:
            equalised = cv2.equalizeHist(gray)
            for detector, cascade in self._cascades:
                hits = cascade.detectMultiScale(equalised, opts.scale_factor, opts.min_neighbors,
                                                minSize=(opts.min_size, opts.min_size))
                found[detector] = [tuple(int(v) for v in box) for box in hits]  # type: ignore[misc]
        if self._hog is not None and min(gray.shape) >= 128:
            rects, weights = self._hog.detectMultiScale(gray, winStride=(8, 8), padding=(8, 8), scale=1.1)
            keep = [tuple(int(v) for v in r) for r, w in zip(rects, np.ravel(weights))
                    if float(w) >= opts.hog_min_weight]
            found[PersonDetector.HOG] = keep  # type: ignore[assignment]
        return found

    def count(self, image: np.ndarray) -> int:
        """People in ``image``: the largest count of any enabled detector."""
        return max((len(v) for v in self.boxes(image).values()), default=0)


def _cascade(filename: str) -> cv2.CascadeClassifier:
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    path = os.path.join(folder, filename) if folder else ""
    if not folder or not os.path.exists(path) or not hasattr(cv2, "CascadeClassifier"):
        raise DetectorUnavailable(
            f"Expected OpenCV's bundled cascade {filename!r}, got none in {cv2.__version__}: "
            "install opencv-python-headless<5")
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise DetectorUnavailable(f"Expected a loadable cascade {filename!r}, got an empty classifier")
    return cascade


def _hog() -> cv2.HOGDescriptor:
    if not hasattr(cv2, "HOGDescriptor"):
        raise DetectorUnavailable(
            f"Expected OpenCV's HOG people detector, got none in {cv2.__version__}: "
            "install opencv-python-headless<5")
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog
