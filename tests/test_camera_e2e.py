"""End to end (issue 7): two real agents with a replayed counter video as their camera, sales settled
through the POS API over HTTP, a real Mosquitto set up as shipped (passwords and per-store ACLs), and the
real collector. The store with a customer at the counter produces clean camera evidence; the store whose
video shows an empty counter at the swipe raises 空刷 at the collector, which asks that store for the
still and keeps it."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
import requests

from agent.app import Agent, build_agent
from agent.config import load_agent_config
from collector import runner
from drugtrace.events import AnyEvent, CameraEvidence, Health, Settlement
from tests.agent.camera.counter_video import counter_frames, profile_toml, write_video
from tests.agent.uplink.support import CATALOGUE, KEY, TOKEN, nmpa
from tests.collector.brokers import secured_broker
from tests.support.mosquitto import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.mosquitto
AUTH = {"Authorization": f"Bearer {TOKEN}"}
_decoder = msgspec.json.Decoder(AnyEvent)


def _agent(tmp_path: Path, store: str, port: int, password: str, video: Path, profile: Path) -> Agent:
    folder = tmp_path / store
    folder.mkdir()
    (folder / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    (folder / "agent.toml").write_text(f"""
store_id = "{store}"
county_id = "C1"
data_dir = "data"
pseudonym_key = "{KEY}"
catalogue = "catalogue.csv"
[mqtt]
port = {port}
password = "{password}"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
[heartbeat]
interval_s = 3600
[web]
port = {free_port()}
token = "{TOKEN}"
[[cameras]]
name = "counter-cam"
profile = "{profile}"
source = "{video}"
""", encoding="utf-8")
    return build_agent(load_agent_config(folder / "agent.toml", environ={}))


def _sell_and_settle(agent: Agent, code: str, setl_id: str, psn_no: str) -> None:
    api = f"http://127.0.0.1:{agent.web_port}/api/v1"
    doc = requests.post(f"{api}/documents", json={"kind": "sale"}, headers=AUTH, timeout=5).json()["document"]["doc_id"]
    response = requests.post(f"{api}/documents/{doc}/lines", json={"product": "XA01", "quantity": 1, "price_fen": 1250},
                             headers=AUTH, timeout=5)
    assert response.status_code == 201, response.text
    response = requests.post(f"{api}/documents/{doc}/scans", json={"raw": code}, headers=AUTH, timeout=5)
    assert response.json()["outcome"]["accepted"], response.text
    started = time.monotonic()
    response = requests.post(f"{api}/documents/{doc}/settlement", headers=AUTH, timeout=5, json={
        "setl_id": setl_id, "payment": "insurance", "total_fen": 1250, "fund_fen": 1000, "psn_no": psn_no})
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 1.0  # the answer does not wait for the camera's window


def _events(ledger: Path, store: str, kind: str) -> list[AnyEvent]:
    conn = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT body FROM events WHERE store = ? AND type = ?", (store, kind)).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    return [_decoder.decode(body) for (body,) in rows]


def _alerts(ledger: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        return sorted(conn.execute("SELECT rule, subject, state FROM alerts").fetchall())
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


@dataclass
class County:
    broker: Any
    agents: dict[str, Agent]
    ledger: Path
    served: CameraEvidence
    empty: CameraEvidence


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    """Both counters running, one sale settled at each, and both camera evidence events at the collector."""
    (tmp_path / "county").mkdir()
    with secured_broker("mosquitto", tmp_path / "county", stores=("S001", "S002")) as broker:
        profile = profile_toml(tmp_path / "counter-test.toml", before_s=4.0, after_s=1.0)
        served = write_video(tmp_path / "served.avi", counter_frames(1, customer=True, codes=[nmpa(1)], frames=30),
                             repeat=12)
        empty = write_video(tmp_path / "empty.avi", counter_frames(2, customer=False, codes=[nmpa(2)], frames=30),
                            repeat=12)
        collector = runner.start(broker.config)
        agents = {store: _agent(tmp_path, store, broker.port, broker.accounts[store].password, video, profile)
                  for store, video in (("S001", served), ("S002", empty))}
        ledger = broker.config.path(broker.config.store.path)
        try:
            for agent in agents.values():
                agent.start()
            for agent in agents.values():  # the camera has watched for longer than the window's start
                assert agent.cameras is not None
                assert agent.cameras.workers["counter-cam"].ring.wait_for(lambda ring: len(ring) >= 25, timeout=20)
            _sell_and_settle(agents["S001"], nmpa(1), "SETL-A", "420100199001011234")
            _sell_and_settle(agents["S002"], nmpa(2), "SETL-B", "420100199202022345")
            served_ev = wait_until(lambda: _events(ledger, "S001", "camera_evidence"), 30, "S001's camera evidence")[0]
            empty_ev = wait_until(lambda: _events(ledger, "S002", "camera_evidence"), 30, "S002's camera evidence")[0]
            yield County(broker, agents, ledger, served_ev, empty_ev)
        finally:
            for agent in agents.values():
                agent.stop()
            collector.stop()


def test_replayed_counters_give_the_right_camera_evidence_at_the_collector(county: County) -> None:
    served_ev, empty_ev = county.served, county.empty
    [settled] = _events(county.ledger, "S002", "settlement")
    assert isinstance(settled, Settlement) and settled.setl_id == "SETL-B" and empty_ev.doc == settled.doc
    assert (served_ev.setl_id, served_ev.camera_health, served_ev.people_max) == ("SETL-A", Health.OK, 1)
    assert served_ev.frames_with_person == served_ev.frames_analysed >= 15
    assert served_ev.codes_seen == [nmpa(1)]  # the box sold is the box the camera saw
    assert (empty_ev.setl_id, empty_ev.camera_health, empty_ev.people_max) == ("SETL-B", Health.OK, 0)
    assert empty_ev.frames_with_person == 0 and empty_ev.frames_analysed >= 15
    assert empty_ev.window_end - empty_ev.window_start == dt.timedelta(seconds=5)
    for store, evidence in (("S001", served_ev), ("S002", empty_ev)):  # the still stays at the store
        assert evidence.still_image is not None
        kept = county.agents[store].config.stills_dir / f"{evidence.still_image}.jpg"
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == evidence.still_image


def test_the_empty_counter_raises_kongshua_and_its_still_is_uploaded(county: County) -> None:
    alerts = wait_until(lambda: [a for a in _alerts(county.ledger) if a[0] == "swipe_nobody"], 10, "the 空刷 alert")
    assert alerts == [("swipe_nobody", "settlement:S002:SETL-B", "open")]
    assert [a for a in _alerts(county.ledger) if "S001" in a[1]] == []  # a served customer raises nothing
    # the collector asked S002 for the still, which it uploaded over its own topic only
    stills = county.broker.config.path("stills")
    kept = stills / "S002" / str(county.empty.still_image)
    wait_until(kept.is_file, 10, "the uploaded still")
    original = county.agents["S002"].config.stills_dir / f"{county.empty.still_image}.jpg"
    assert kept.read_bytes() == original.read_bytes()
    assert not (stills / "S001").exists()  # no anomaly: that image never leaves the store
