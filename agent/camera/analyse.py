"""Per-frame analysis: health, motion, codes in the region of interest, people, an occasional still.

An idle counter (almost no moving pixels and no code in view) is decoded only on every
``idle_decode_every``-th frame: nothing new can appear without motion, and this keeps a quiet
camera cheap. The first idle frame is always decoded.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from agent.camera.decode import DecodePipeline
from agent.camera.health import Health, HealthMonitor, frame_stats, thumbnail
from agent.camera.presence import PresenceDetector
from agent.camera.profile import CameraProfile, Roi
from agent.camera.ring import FrameAnalysis
from agent.camera.source import Frame
from agent.camera.still import encode_still

__all__ = ["Analyser", "crop_roi"]


def crop_roi(image: np.ndarray, roi: Roi) -> np.ndarray:
    """The part of ``image`` inside ``roi`` = (x, y, w, h) as fractions of the frame."""
    h, w = image.shape[:2]
    x0, y0 = int(roi[0] * w), int(roi[1] * h)
    x1, y1 = min(w, x0 + max(1, int(roi[2] * w))), min(h, y0 + max(1, int(roi[3] * h)))
    return image[y0:y1, x0:x1]


class Analyser:
    """Stateful analysis of successive frames of one camera (previous thumbnail, timers)."""

    def __init__(self, profile: CameraProfile) -> None:
        self.profile = profile
        self.pipeline = DecodePipeline(profile.decode)
        self.presence = PresenceDetector(profile.presence)
        self.monitor = HealthMonitor(profile.health)
        self.rejected = 0
        self.decoded_frames = 0
        self._codes: tuple[str, ...] = ()
        self._idle_frames = 0
        self._previous: np.ndarray | None = None
        self._people = 0
        self._people_at: float | None = None
        self._still_at: float | None = None

    def analyse(self, frame: Frame) -> FrameAnalysis:
        """Analyse one frame; timers run on the frame's monotonic time."""
        opts = self.profile.analysis
        now = frame.mono
        thumb = thumbnail(frame.image, self.profile.health.thumb_width)
        stats = frame_stats(thumb, self._previous, self.profile.health.motion_level)
        self._previous = thumb
        health = self.monitor.update(stats, now)
        if health is not Health.OK:
            self._people, self._people_at, self._codes = 0, None, ()
            return FrameAnalysis(frame.at, 0, (), stats.motion, health)
        idle = stats.motion < opts.idle_motion and not self._codes
        self._idle_frames = self._idle_frames + 1 if idle else 0
        if not idle or (self._idle_frames - 1) % opts.idle_decode_every == 0:
            result = self.pipeline.analyse(crop_roi(frame.image, opts.roi))
            self.rejected += result.rejected
            self._codes = tuple(d.text for d in result.codes)
            self.decoded_frames += 1
        if self._people_at is None or now - self._people_at >= opts.presence_every_s:
            self._people = self.presence.count(crop_roi(frame.image, opts.presence_roi))
            self._people_at = now
        still = None
        if self._still_at is None or now - self._still_at >= opts.still_every_s:
            still = encode_still(frame.image, opts.still_quality, opts.still_width)
            self._still_at = now
        return FrameAnalysis(frame.at, self._people, self._codes, stats.motion, health, still)

    def offline(self, at: dt.datetime) -> FrameAnalysis:
        """The analysis recorded for a tick with no frame."""
        self._previous = None
        self._people, self._people_at, self._codes = 0, None, ()
        return FrameAnalysis(at, 0, (), 0.0, self.monitor.offline())
