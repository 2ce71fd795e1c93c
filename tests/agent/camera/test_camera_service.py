"""The cameras inside the agent: profiles from the configuration, evidence queued at settlement and
written through the real outbox after the window, the heartbeat's camera health, still uploads."""

from __future__ import annotations

import datetime as dt
import hashlib
import queue
from pathlib import Path

import cv2
import msgspec
import numpy as np
import pytest

from agent.camera.service import CameraService, camera_setups
from agent.camera.still import StillStore, encode_still
from agent.camera.upload import StillResponder, fit_still
from agent.config import AgentConfig, CameraConfig, CameraMode
from agent.errors import ConfigurationError
from agent.outbox import SqliteOutbox
from drugtrace.events import CameraEvidence, Health, Payment, Settlement
from drugtrace.ids import uuid7
from drugtrace.stills import MAX_STILL_BYTES, StillRequest, decode_upload, encode
from tests.agent.camera.counter_video import counter_frames, profile_toml, write_video
from tests.agent.uplink.support import KEY

CODES = ["81234560000000000001", "81234560000000000002"]


def _config(tmp_path: Path, *cameras: CameraConfig) -> AgentConfig:
    return AgentConfig(store_id="S001", county_id="C1", data_dir=str(tmp_path / "data"), pseudonym_key=KEY,
                       cameras=list(cameras))


def test_camera_setups_apply_the_configured_source_and_mode(tmp_path: Path) -> None:
    [setup] = camera_setups(_config(tmp_path, CameraConfig(name="counter", profile="counter-usb-720p", source="2",
                                                           mode=CameraMode.THREAD)))
    assert (setup.name, setup.profile.name, setup.profile.source.uri, setup.profile.analysis.mode) == (
        "counter", "counter", 2, "thread")
    with pytest.raises(ConfigurationError, match="Expected a camera profile 'nope' for camera 'c1' "
                                                 r"\(known: counter-as-scanner, .*\), got no such file."):
        camera_setups(_config(tmp_path, CameraConfig(name="c1", profile="nope")))


class RecordingOutbox:
    """The real outbox, with every commit also handed to a queue the test can wait on."""

    def __init__(self, outbox: SqliteOutbox) -> None:
        self.outbox = outbox
        self.committed: queue.Queue[object] = queue.Queue()

    def commit(self, document, events):  # type: ignore[no-untyped-def]
        sealed = self.outbox.commit(document, events)
        for event in sealed:
            self.committed.put(event)
        return sealed


def _settlement(at: dt.datetime) -> Settlement:
    return Settlement(id=uuid7(), store="S001", doc="D1", seq=1, at=at, setl_id="SETL-1", payment=Payment.INSURANCE,
                      total_fen=1000, fund_fen=800, person="p_" + "0" * 32)


@pytest.mark.parametrize("customer", [True, False], ids=["customer", "empty_counter"])
def test_evidence_is_written_after_the_window_from_the_replayed_counter(tmp_path: Path, customer: bool) -> None:
    video = write_video(tmp_path / "counter.avi", counter_frames(3, customer=customer, codes=CODES, frames=30), repeat=10)
    profile = profile_toml(tmp_path / "test.toml", before_s=2.0, after_s=1.0)
    config = _config(tmp_path, CameraConfig(name="counter", profile=str(profile), source=str(video)))
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite", store="S001", capacity=1000)
    recording = RecordingOutbox(outbox)
    cameras = CameraService(camera_setups(config), recording, store="S001", stills=StillStore(tmp_path / "stills"))
    cameras.start()
    try:
        worker = cameras.workers["counter"]
        assert worker.ring.wait_for(lambda ring: len(ring) >= 12, timeout=20)  # 2 s of analyses at 5/s
        settled_at = dt.datetime.now(dt.timezone.utc)
        cameras.settled(_settlement(settled_at))
        assert cameras.pending == 1  # queued, not summarised: the POS answer does not wait
        assert recording.committed.empty()
        evidence = recording.committed.get(timeout=10)
        assert isinstance(evidence, CameraEvidence)
        assert dt.datetime.now(dt.timezone.utc) >= settled_at + dt.timedelta(seconds=1)  # after the window's end
    finally:
        cameras.stop()
        outbox.close()
    assert (evidence.setl_id, evidence.doc, evidence.camera_health) == ("SETL-1", "D1", Health.OK)
    assert evidence.window_start == settled_at - dt.timedelta(seconds=2)
    assert evidence.window_end == settled_at + dt.timedelta(seconds=1)
    assert 10 <= evidence.frames_analysed <= 20
    assert set(evidence.codes_seen) == set(CODES)  # the 3 s clip loops: both boxes are shown in any 3 s
    if customer:
        assert evidence.people_max == 1 and evidence.frames_with_person == evidence.frames_analysed
    else:
        assert evidence.people_max == 0 and evidence.frames_with_person == 0
    assert evidence.still_image is not None
    kept = (tmp_path / "stills" / f"{evidence.still_image}.jpg").read_bytes()
    assert hashlib.sha256(kept).hexdigest() == evidence.still_image
    assert [(d.name, d.health) for d in cameras.health()] == [("counter", Health.OK)]


def test_a_camera_that_cannot_be_read_gives_offline_evidence_and_health(tmp_path: Path) -> None:
    profile = profile_toml(tmp_path / "test.toml", before_s=1.0, after_s=0.2)
    config = _config(tmp_path, CameraConfig(name="counter", profile=str(profile), source="rtsp://127.0.0.1:9/none"))
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite", store="S001", capacity=1000)
    recording = RecordingOutbox(outbox)
    cameras = CameraService(camera_setups(config), recording, store="S001", stills=StillStore(tmp_path / "stills"))
    cameras.start()
    try:
        assert cameras.workers["counter"].ring.wait_for(lambda ring: len(ring) >= 3, timeout=20)
        cameras.settled(_settlement(dt.datetime.now(dt.timezone.utc)))
        evidence = recording.committed.get(timeout=10)
    finally:
        cameras.stop()
        outbox.close()
    assert isinstance(evidence, CameraEvidence)
    assert (evidence.camera_health, evidence.frames_analysed, evidence.still_image) == (Health.OFFLINE, 0, None)
    assert [(d.name, d.health) for d in cameras.health()] == [("counter", Health.OFFLINE)]


def test_evidence_still_queued_at_stop_is_written_not_dropped(tmp_path: Path) -> None:
    video = write_video(tmp_path / "counter.avi", counter_frames(4, customer=True, frames=10))
    profile = profile_toml(tmp_path / "test.toml", before_s=2.0, after_s=20.0)
    config = _config(tmp_path, CameraConfig(name="counter", profile=str(profile), source=str(video)))
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite", store="S001", capacity=1000)
    recording = RecordingOutbox(outbox)
    cameras = CameraService(camera_setups(config), recording, store="S001", stills=StillStore(tmp_path / "stills"))
    cameras.start()
    assert cameras.workers["counter"].ring.wait_for(lambda ring: len(ring) >= 3, timeout=20)
    settled_at = dt.datetime.now(dt.timezone.utc)
    cameras.settled(_settlement(settled_at))
    cameras.stop()
    outbox.close()
    evidence = recording.committed.get_nowait()
    assert isinstance(evidence, CameraEvidence) and evidence.window_end < settled_at + dt.timedelta(seconds=20)


# -- still uploads ---------------------------------------------------------------------------------------

def _noisy_jpeg(quality: int = 100) -> bytes:
    image = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    return encode_still(image, quality, 1280)


def test_a_large_still_is_re_encoded_to_fit() -> None:
    big = _noisy_jpeg()
    assert len(big) > MAX_STILL_BYTES
    small = fit_still(big)
    assert small is not None and len(small) <= MAX_STILL_BYTES
    assert cv2.imdecode(np.frombuffer(small, np.uint8), cv2.IMREAD_COLOR) is not None
    assert fit_still(b"\xff\xd8 small") == b"\xff\xd8 small"


def test_the_responder_answers_known_stills_and_refuses_the_rest(tmp_path: Path) -> None:
    stills = StillStore(tmp_path / "stills")
    big = _noisy_jpeg()
    stills.max_bytes = len(big)
    digest = stills.keep(big)
    responder = StillResponder("S001", stills.read)
    upload = decode_upload(responder(encode(StillRequest(setl_id="SETL-1", sha256=digest))))  # type: ignore[arg-type]
    assert (upload.store, upload.setl_id, upload.original_sha256) == ("S001", "SETL-1", digest)
    assert upload.sha256 == hashlib.sha256(upload.jpeg).hexdigest() != digest  # re-encoded smaller
    assert responder(encode(StillRequest(setl_id="SETL-2", sha256="a" * 64))) is None  # never kept or deleted
    assert responder(b'{"setl_id": "X"}') is None
    assert responder(msgspec.json.encode({"setl_id": "X", "sha256": "../../etc/passwd"})) is None
    assert (responder.answered, responder.refused) == (1, 3)
