"""Camera evidence survives a kill -9 inside the settlement window: the settlement waits in the
outbox (`camera_pending`, same transaction) and the restarted service writes its evidence once."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from agent.camera.service import CameraService, camera_setups
from agent.camera.still import StillStore
from agent.config import AgentConfig, CameraConfig
from agent.outbox import SqliteOutbox
from drugtrace.events import CameraEvidence, Health, Payment, Settlement
from drugtrace.ids import uuid7
from drugtrace.wire import decode_event
from tests.agent.camera.counter_video import counter_frames, profile_toml, write_video
from tests.agent.camera.test_camera_service import RecordingOutbox
from tests.agent.uplink.support import KEY

ROOT = Path(__file__).resolve().parents[3]


def _evidence_rows(path: Path) -> list[CameraEvidence]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT body FROM events WHERE type = 'camera_evidence' ORDER BY seq").fetchall()
    return [decode_event(bytes(body)) for (body,) in rows]  # type: ignore[misc]


def _settlement(setl_id: str) -> Settlement:
    return Settlement(id=uuid7(), store="S001", doc="D1", seq=1, at=dt.datetime.now(dt.timezone.utc),
                      setl_id=setl_id, payment=Payment.INSURANCE, total_fen=1000, fund_fen=800)


def test_pending_evidence_is_kept_in_the_settlements_transaction_and_cleared_by_the_evidence(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite", store="S001", capacity=100)
    outbox.track_evidence = True
    [settled] = outbox.commit(None, [_settlement("SETL-A")])
    assert [s.setl_id for s in outbox.evidence_pending()] == ["SETL-A"]
    assert outbox.evidence_pending()[0] == settled  # the sealed settlement, as committed
    evidence = CameraEvidence(id=uuid7(), store="S001", doc="D1", seq=1, at=settled.at, setl_id="SETL-A",
                              window_start=settled.at, window_end=settled.at, frames_analysed=0,
                              frames_with_person=0, people_max=0, codes_seen=[], camera_health=Health.OFFLINE,
                              motion_mean=0.0, still_image=None)
    outbox.commit(None, [evidence])
    assert outbox.evidence_pending() == []
    outbox.close()


def test_without_an_evidence_camera_nothing_is_kept_pending(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite", store="S001", capacity=100)
    outbox.commit(None, [_settlement("SETL-A")])
    assert outbox.evidence_pending() == []
    outbox.close()


def test_kill_9_inside_the_window_loses_no_evidence_and_restart_writes_it_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    video = write_video(tmp_path / "counter.avi", counter_frames(4, customer=True, frames=10))
    profile = profile_toml(tmp_path / "test.toml", before_s=2.0, after_s=2.0)
    child = subprocess.Popen([sys.executable, "-m", "tests.agent.camera.evidence_child", str(data), str(profile),
                              str(video), "SETL-K"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until the settlement is committed and queued
        assert line.startswith("settled SETL-K pending=1"), line
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    outbox_path = data / "outbox.sqlite"
    assert _evidence_rows(outbox_path) == []  # killed inside the window: the evidence was never written

    config = AgentConfig(store_id="S001", county_id="C1", data_dir=str(data), pseudonym_key=KEY,
                         cameras=[CameraConfig(name="counter", profile=str(profile), source=str(video))])
    outbox = SqliteOutbox(outbox_path, store="S001", capacity=1000)
    outbox.track_evidence = True
    [settlement] = outbox.evidence_pending()
    recording = RecordingOutbox(outbox)
    cameras = CameraService(camera_setups(config), recording, store="S001", stills=StillStore(data / "stills"),
                            pending=outbox.evidence_pending)
    cameras.start()
    try:
        evidence = recording.committed.get(timeout=20)
    finally:
        cameras.stop()
    assert isinstance(evidence, CameraEvidence) and evidence.setl_id == "SETL-K"
    # The camera was not watching while the agent was down: the window has a gap, so it says offline.
    assert evidence.camera_health is Health.OFFLINE
    assert (evidence.window_start, evidence.window_end) == (settlement.at - dt.timedelta(seconds=2),
                                                           settlement.at + dt.timedelta(seconds=2))
    assert outbox.evidence_pending() == []

    again = CameraService(camera_setups(config), recording, store="S001", stills=StillStore(data / "stills"),
                          pending=outbox.evidence_pending)
    assert again.pending == 0
    outbox.close()
    assert [e.setl_id for e in _evidence_rows(outbox_path)] == ["SETL-K"]  # exactly once
