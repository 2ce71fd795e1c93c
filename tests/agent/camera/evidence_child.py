"""Child process for the kill -9 test: commits one settlement through the real outbox and camera
service, says so on stdout, then waits (inside the evidence window) to be killed.

Usage: python -m tests.agent.camera.evidence_child DATA_DIR PROFILE VIDEO SETL_ID
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from pathlib import Path

from agent.camera.service import CameraService, camera_setups
from agent.camera.still import StillStore
from agent.config import AgentConfig, CameraConfig
from agent.outbox import SqliteOutbox
from drugtrace.events import Payment, Settlement
from drugtrace.ids import uuid7
from tests.agent.uplink.support import KEY


def main(data: Path, profile: str, video: str, setl_id: str) -> None:
    config = AgentConfig(store_id="S001", county_id="C1", data_dir=str(data), pseudonym_key=KEY,
                         cameras=[CameraConfig(name="counter", profile=profile, source=video)])
    outbox = SqliteOutbox(data / "outbox.sqlite", store="S001", capacity=1000)
    outbox.track_evidence = True
    cameras = CameraService(camera_setups(config), outbox, store="S001", stills=StillStore(data / "stills"),
                            pending=outbox.evidence_pending)
    cameras.start()
    settlement = Settlement(id=uuid7(), store="S001", doc="D1", seq=1, at=dt.datetime.now(dt.timezone.utc),
                            setl_id=setl_id, payment=Payment.INSURANCE, total_fen=1000, fund_fen=800)
    [sealed] = outbox.commit(None, [settlement])
    cameras.settled(sealed)  # type: ignore[arg-type]
    print(f"settled {setl_id} pending={cameras.pending}", flush=True)
    threading.Event().wait()  # until SIGKILL


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
