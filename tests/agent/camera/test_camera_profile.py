"""Camera profiles: every shipped profile loads; mistakes are refused with a clear message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from agent.camera.errors import ProfileError
from agent.camera.presence import PersonDetector
from agent.camera.profile import CameraProfile, load_profile, parse_profile

PROFILES = sorted((Path(__file__).resolve().parents[3] / "firmware_configs" / "cameras").glob("*.toml"))


def test_profiles_are_shipped() -> None:
    assert {p.name for p in PROFILES} >= {"counter-usb-720p.toml", "counter-rtsp-ipcam.toml",
                                          "counter-as-scanner.toml"}


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_every_shipped_profile_loads(path: Path) -> None:
    profile = load_profile(path)
    assert isinstance(profile, CameraProfile) and profile.name == path.stem


def test_the_reference_profile_sets_every_key_to_its_default() -> None:
    reference = load_profile(next(p for p in PROFILES if p.name == "counter-usb-720p.toml"))
    defaults = parse_profile({"name": "counter-usb-720p", "source": {"uri": "0", "width": 1280, "height": 720}})
    assert reference == defaults


def test_the_scanner_profile() -> None:
    profile = load_profile(next(p for p in PROFILES if p.name == "counter-as-scanner.toml"))
    assert profile.scanner.as_scanner and profile.scanner.debounce.rearm_s == 4.0
    assert profile.analysis.roi == (0.25, 0.3, 0.5, 0.7)
    assert profile.presence.detectors == (PersonDetector.FACE,)


def test_values_are_converted() -> None:
    profile = parse_profile({"name": "x", "source": {"uri": "rtsp://cam/1", "max_fps": 12},
                             "evidence": {"before_s": 30, "after_s": 5, "still_retention_days": 7},
                             "decode": {"pool": 2, "min_density": 40}})
    assert profile.source.max_fps == 12.0 and isinstance(profile.source.max_fps, float)
    assert profile.evidence.before == dt.timedelta(seconds=30)
    assert profile.still_retention == dt.timedelta(days=7)
    assert profile.decode.locate.pool == 2 and profile.decode.locate.min_density == 40.0


@pytest.mark.parametrize(("data", "message"), [
    pytest.param({"source": {"uri": "0"}}, "t: expected a non-empty string 'name', got None", id="no-name"),
    pytest.param({"name": "x"}, "t: [source] expected key 'uri', got none", id="no-uri"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "camera": {}},
                 "t: expected sections ['analysis', 'decode', 'evidence', 'health', 'presence', 'scanner', "
                 "'source'], got unknown ['camera']", id="unknown-section"),
    pytest.param({"name": "x", "source": {"uri": "0", "fps": 5}}, "t: [source] got unknown key 'fps'",
                 id="unknown-key"),
    pytest.param({"name": "x", "source": {"uri": "0", "max_fps": "ten"}},
                 "t: [source] max_fps expected float, got 'ten'", id="wrong-type"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "scanner": {"as_scanner": 1}},
                 "t: [scanner] as_scanner expected bool, got 1", id="int-for-bool"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "analysis": {"roi": [0, 0, 1]}},
                 "t: [analysis] roi expected tuple of 4, got [0, 0, 1]", id="short-roi"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "analysis": {"roi": [0.5, 0, 0.6, 1]}},
                 "t: expected [analysis] roi inside the frame as [x, y, w, h] fractions, got [0.5, 0.0, 0.6, 1.0]",
                 id="roi-outside"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "presence": {"detectors": ["face", "yolo"]}},
                 "t: [presence] detectors expected a list from ['face', 'profile', 'upperbody', 'hog'], "
                 "got ['face', 'yolo']", id="unknown-detector"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "analysis": {"mode": "fork"}},
                 "t: expected [analysis] mode 'process' or 'thread', got 'fork'", id="mode"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "analysis": {"ring_seconds": 30.0}},
                 "t: expected [analysis] ring_seconds covering [evidence] before_s + after_s, got 30.0",
                 id="ring-too-short"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "decode": {"code128": False, "datamatrix": False}},
                 "t: expected [decode] code128 or datamatrix enabled, got False", id="nothing-to-decode"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "evidence": {"before_s": -1}},
                 "t: [evidence] before_s expected a number of at least 0, got -1", id="negative-window"),
    pytest.param({"name": "x", "source": {"uri": "0"}, "scanner": {"confirm_frames": 0}},
                 "t: expected [scanner] confirm_frames of at least 1, got 0", id="confirm-zero"),
])
def test_mistakes_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile(data, where="t")
    assert str(info.value) == message


def test_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ProfileError, match="Expected a readable TOML camera profile at bad.toml, got: "):
        load_profile(bad)
