"""Summarising the ring around a settlement (pure), with properties checked by hypothesis."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.camera.evidence import CameraEvidence, EvidenceWindow, pick_still, summarise
from agent.camera.health import Health
from agent.camera.ring import FrameAnalysis

SETTLED = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.timezone.utc)
NOW = SETTLED + dt.timedelta(seconds=10)


def _a(offset_s: float, people: int = 1, codes: tuple[str, ...] = (), motion: float = 0.1,
       health: Health = Health.OK, still: bytes | None = None) -> FrameAnalysis:
    return FrameAnalysis(SETTLED + dt.timedelta(seconds=offset_s), people, codes, motion, health, still)


def _steady(**kw: object) -> list[FrameAnalysis]:
    """One analysis per second over the whole default window."""
    return [_a(t, **kw) for t in range(-60, 11)]  # type: ignore[arg-type]


def test_a_person_and_codes_seen() -> None:
    ring = _steady()
    ring[30] = _a(-30, codes=("81234567890123456789",))
    ring[31] = _a(-29, codes=("81234567890123456789", "]d20106901234567892" + "21X"))
    evidence = summarise(ring, "S-1", SETTLED, NOW)
    assert evidence == CameraEvidence(
        setl_id="S-1", window_start=SETTLED - dt.timedelta(seconds=60), window_end=NOW,
        frames_analysed=71, frames_with_person=71, people_max=1,
        codes_seen=["81234567890123456789", "]d20106901234567892" + "21X"],
        camera_health="ok", motion_mean=pytest.approx(0.1), still_image=None)


def test_nobody_at_the_counter() -> None:
    evidence = summarise(_steady(people=0), "S-2", SETTLED, NOW)
    assert (evidence.frames_with_person, evidence.people_max, evidence.camera_health) == (0, 0, "ok")


def test_analyses_outside_the_window_are_ignored() -> None:
    ring = [_a(-120, people=3, codes=("80000000000000000001",)), *_steady(people=0), _a(11, people=2)]
    evidence = summarise(ring, "S-3", SETTLED, NOW)
    assert evidence.people_max == 0 and evidence.codes_seen == [] and evidence.frames_analysed == 71


def test_worst_health_of_the_window() -> None:
    ring = _steady()
    ring[50] = _a(-10, health=Health.FROZEN, people=0)
    ring[60] = _a(0, health=Health.COVERED, people=0)
    assert summarise(ring, "S-4", SETTLED, NOW).camera_health == "covered"


def test_a_silent_camera_is_offline() -> None:
    ring = [a for a in _steady() if not -20 < (a.at - SETTLED).total_seconds() < -5]
    assert summarise(ring, "S-5", SETTLED, NOW).camera_health == "offline"
    assert summarise([], "S-5", SETTLED, NOW) == CameraEvidence(
        "S-5", SETTLED - dt.timedelta(seconds=60), NOW, 0, 0, 0, [], "offline", 0.0, None)


def test_offline_ticks_are_not_analysed_frames() -> None:
    ring = _steady()
    ring[10] = _a(-50, health=Health.OFFLINE, people=0, motion=0.0)
    evidence = summarise(ring, "S-6", SETTLED, NOW)
    assert evidence.frames_analysed == 70 and evidence.camera_health == "offline"


def test_an_early_summary_stops_at_now() -> None:
    evidence = summarise(_steady(), "S-7", SETTLED, SETTLED + dt.timedelta(seconds=4))
    assert evidence.window_end == SETTLED + dt.timedelta(seconds=4)
    assert evidence.frames_analysed == 65


def test_window_is_configurable() -> None:
    window = EvidenceWindow(before=dt.timedelta(seconds=5), after=dt.timedelta(seconds=2))
    evidence = summarise(_steady(), "S-8", SETTLED, NOW, window, still_image="ab" * 32)
    assert (evidence.window_start, evidence.window_end) == (SETTLED - dt.timedelta(seconds=5),
                                                            SETTLED + dt.timedelta(seconds=2))
    assert evidence.frames_analysed == 8 and evidence.still_image == "ab" * 32


def test_pick_still_prefers_people_then_nearness() -> None:
    ring = [_a(-3, people=0, still=b"a"), _a(-20, people=1, still=b"b"), _a(-8, people=1, still=b"c"),
            _a(1, people=0), _a(-90, people=2, still=b"d")]
    assert pick_still(ring, SETTLED, NOW).still == b"c"  # type: ignore[union-attr]
    assert pick_still([_a(0)], SETTLED, NOW) is None


def test_evidence_maps_onto_the_camera_evidence_event() -> None:
    events = pytest.importorskip("drugtrace.events")
    msgspec = pytest.importorskip("msgspec")
    evidence = summarise(_steady(codes=("81234567890123456789",)), "S-9", SETTLED, NOW, still_image="f" * 64)
    assert [f.name for f in dataclasses.fields(CameraEvidence)] == [
        f for f in events.CameraEvidence.__struct_fields__ if f not in events.Event.__struct_fields__]
    event = msgspec.convert({"id": "e-1", "store": "store-1", "seq": 1, "at": NOW, "type": "camera_evidence",
                             **dataclasses.asdict(evidence)}, events.CameraEvidence)
    assert event.camera_health is events.Health.OK
    assert event.codes_seen == ["81234567890123456789"]


offsets = st.floats(min_value=-90, max_value=20, allow_nan=False)
analyses = st.builds(
    _a, offsets, people=st.integers(0, 4),
    codes=st.lists(st.sampled_from(["80000000000000000001", "80000000000000000002", "]d20106901234567892"]),
                   max_size=3).map(tuple),
    motion=st.floats(0, 1), health=st.sampled_from(list(Health)))


@settings(max_examples=60, deadline=None)
@given(st.lists(analyses, max_size=40), st.floats(min_value=0, max_value=30))
def test_summary_properties(ring: list[FrameAnalysis], late_s: float) -> None:
    now = SETTLED + dt.timedelta(seconds=late_s)
    evidence = summarise(ring, "S", SETTLED, now)
    inside = [a for a in ring if evidence.window_start <= a.at <= evidence.window_end]
    seen = [a for a in inside if a.health is not Health.OFFLINE]
    assert evidence.window_end == min(now, SETTLED + dt.timedelta(seconds=10))
    assert evidence.frames_analysed == len(seen)
    assert 0 <= evidence.frames_with_person <= evidence.frames_analysed
    assert evidence.people_max == max((a.people for a in seen), default=0)
    assert len(set(evidence.codes_seen)) == len(evidence.codes_seen)
    assert set(evidence.codes_seen) == {c for a in seen for c in a.codes}
    assert 0.0 <= evidence.motion_mean <= 1.0
    severities = [h.severity for h in (Health(a.health) for a in inside)]
    assert Health(evidence.camera_health).severity >= max(severities, default=0)
    # pure: the order of the ring does not matter
    assert summarise(list(reversed(ring)), "S", SETTLED, now) == evidence
