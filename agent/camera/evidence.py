"""Summarise the ring around a settlement into camera evidence (DOMAIN §5). Pure: no clock, no I/O.

The window runs from ``before`` ahead of the settlement to ``after`` behind it, cut at ``now``
when the summary is made early. A camera that produced no analysis for longer than ``max_gap``
inside the window (worker stopped, source lost without a trace) counts as offline for that window.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from agent.camera.dedupe import unique_codes
from agent.camera.health import Health, worst
from agent.camera.ring import FrameAnalysis

__all__ = ["EvidenceWindow", "CameraEvidence", "summarise", "pick_still", "in_window"]


@dataclass(frozen=True)
class EvidenceWindow:
    """The settlement window and the longest silence tolerated inside it."""

    before: dt.timedelta = dt.timedelta(seconds=60)
    after: dt.timedelta = dt.timedelta(seconds=10)
    max_gap: dt.timedelta = dt.timedelta(seconds=5)


@dataclass(frozen=True)
class CameraEvidence:
    """Field for field the camera-evidence event of ``drugtrace.events``."""

    setl_id: str
    window_start: dt.datetime
    window_end: dt.datetime
    frames_analysed: int
    frames_with_person: int
    people_max: int
    codes_seen: list[str]
    camera_health: str
    motion_mean: float
    still_image: str | None


def _bounds(settled_at: dt.datetime, now: dt.datetime, window: EvidenceWindow) -> tuple[dt.datetime, dt.datetime]:
    start = settled_at - window.before
    end = min(settled_at + window.after, max(now, start))
    return start, end


def in_window(analyses: Sequence[FrameAnalysis], start: dt.datetime, end: dt.datetime) -> list[FrameAnalysis]:
    """Analyses with ``start <= at <= end``, in time order."""
    return sorted((a for a in analyses if start <= a.at <= end), key=lambda a: a.at)


def _has_gap(times: list[dt.datetime], start: dt.datetime, end: dt.datetime, max_gap: dt.timedelta) -> bool:
    edges = [start, *times, end]
    return any(b - a > max_gap for a, b in zip(edges, edges[1:]))


def _codes_in_order(seen: list[FrameAnalysis]) -> list[str]:
    """Distinct codes by first sighting, ties broken by text, so the ring's order never matters."""
    first: dict[str, dt.datetime] = {}
    for analysis in seen:
        for code in unique_codes([analysis.codes]):
            if code not in first or analysis.at < first[code]:
                first[code] = analysis.at
    return sorted(first, key=lambda code: (first[code], code))


def summarise(analyses: Sequence[FrameAnalysis], setl_id: str, settled_at: dt.datetime, now: dt.datetime,
              window: EvidenceWindow = EvidenceWindow(), still_image: str | None = None) -> CameraEvidence:
    """Camera evidence for settlement ``setl_id`` from the ring's ``analyses``."""
    start, end = _bounds(settled_at, now, window)
    held = in_window(analyses, start, end)
    seen = [a for a in held if a.health is not Health.OFFLINE]
    health = worst(a.health for a in held)
    if _has_gap([a.at for a in seen], start, end, window.max_gap):
        health = Health.OFFLINE
    return CameraEvidence(
        setl_id=setl_id,
        window_start=start,
        window_end=end,
        frames_analysed=len(seen),
        frames_with_person=sum(1 for a in seen if a.people > 0),
        people_max=max((a.people for a in seen), default=0),
        codes_seen=_codes_in_order(seen),
        camera_health=health.value,
        motion_mean=math.fsum(a.motion for a in seen) / len(seen) if seen else 0.0,
        still_image=still_image,
    )


def pick_still(analyses: Sequence[FrameAnalysis], settled_at: dt.datetime, now: dt.datetime,
               window: EvidenceWindow = EvidenceWindow()) -> FrameAnalysis | None:
    """The analysis whose still best shows the settlement: people first, then nearest in time."""
    start, end = _bounds(settled_at, now, window)
    candidates = [a for a in in_window(analyses, start, end) if a.still is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda a: (a.people == 0, abs((a.at - settled_at).total_seconds())))
