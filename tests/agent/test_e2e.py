"""End to end: bytes into a real pseudo-terminal -> scan accepted on a sale opened over the POS API
(real HTTP) -> event committed in the outbox -> received by a subscriber on a real Mosquitto."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from agent.app import Agent, build_agent
from agent.config import load_agent_config
from drugtrace.events import Heartbeat, Sale, ScanRefused, Settlement
from drugtrace.pseudonym import pseudonymise
from drugtrace.wire import decode_event
from tests.agent.sources.pty_scanner import PtyScanner
from tests.agent.uplink.support import KEY, TOKEN, Collecting, nmpa, write_agent_files
from tests.support.mosquitto import MosquittoBroker, free_port

pytestmark = pytest.mark.mosquitto
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def running(tmp_path: Path, mosquitto: MosquittoBroker) -> Iterator[tuple[Agent, PtyScanner, Collecting, str]]:
    scanner = PtyScanner(tmp_path / "scanner0")
    web_port = free_port()
    config = load_agent_config(write_agent_files(tmp_path, mosquitto.port, web_port, str(scanner.link)), environ={})
    agent = build_agent(config)
    subscriber = Collecting(mosquitto.port)
    agent.start()
    assert agent.sources[0].opened.wait(5)
    try:
        yield agent, scanner, subscriber, f"http://127.0.0.1:{web_port}/api/v1"
    finally:
        agent.stop()
        subscriber.close()
        scanner.close()


def next_event(subscriber: Collecting, kind: type) -> object:  # type: ignore[type-arg]
    """The next event of `kind` (heartbeats and others in between are skipped)."""
    while True:
        event = subscriber.take(1, timeout=15)[0]
        if isinstance(event, kind):
            return event


def test_a_serial_scan_on_a_sale_reaches_the_collector_side(running) -> None:  # type: ignore[no-untyped-def]
    agent, scanner, subscriber, api = running
    response = requests.post(f"{api}/documents", json={"kind": "sale"}, headers=AUTH, timeout=5)
    assert response.status_code == 201, response.text
    doc_id = response.json()["document"]["doc_id"]
    response = requests.post(f"{api}/documents/{doc_id}/lines", json={"product": "XA01", "quantity": 2,
                                                                        "price_fen": 1250}, headers=AUTH, timeout=5)
    assert response.status_code == 201, response.text

    scanner.send(nmpa(1).encode() + b"\r\n")
    sale = next_event(subscriber, Sale)
    assert isinstance(sale, Sale)
    assert (sale.doc, sale.store, sale.product) == (doc_id, "S001", "XA01")
    assert sale.code is not None and sale.code.key == nmpa(1)
    row = sqlite3.connect(agent.config.outbox_path).execute("SELECT body FROM events WHERE id = ?", (sale.id,))
    assert decode_event(row.fetchone()[0]) == sale  # the outbox holds exactly what arrived
    assert agent.uplink.wait_acked(sale.seq, timeout=10)  # and forgets it only after the PUBACK

    # bad input on the same line: refused with a clear reason, the scanner keeps working
    scanner.send(b"\xff\xfe\x00noise\r\n" + b"9" * 3000 + b"\r\n" + b"6901234567892\r\n" + nmpa(2).encode() + b"\r\n")
    refused = next_event(subscriber, ScanRefused)
    assert isinstance(refused, ScanRefused) and refused.problem == "not_text"
    refused = next_event(subscriber, ScanRefused)
    assert isinstance(refused, ScanRefused) and refused.problem == "commodity_barcode"
    second = next_event(subscriber, Sale)
    assert isinstance(second, Sale) and second.code is not None and second.code.key == nmpa(2)
    assert agent.sources[0].counters.overlong == 1

    check = requests.get(f"{api}/documents/{doc_id}/settle-check", headers=AUTH, timeout=5).json()
    assert check["allowed"] is True
    response = requests.post(f"{api}/documents/{doc_id}/settlement", headers=AUTH, timeout=5, json={
        "setl_id": "SETL1", "payment": "insurance", "total_fen": 2500, "fund_fen": 2000,
        "psn_no": "420100199001011234"})
    assert response.status_code == 200, response.text
    settlement = next_event(subscriber, Settlement)
    assert isinstance(settlement, Settlement)
    assert settlement.person == pseudonymise("420100199001011234", KEY.encode())  # the psn_no never left
    assert "420100199001011234" not in str(settlement)


def test_heartbeat_reports_the_scanner(running) -> None:  # type: ignore[no-untyped-def]
    agent, _scanner, subscriber, _api = running
    beat = next_event(subscriber, Heartbeat)
    assert isinstance(beat, Heartbeat)
    assert [d.name for d in beat.scanners] == ["counter1"]
    assert beat.outbox_capacity == agent.config.outbox.capacity


def test_run_test_mode_prints_events_and_status_reads_the_outbox(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from click.testing import CliRunner

    from agent.cli import main

    scanner = PtyScanner(tmp_path / "scanner0")
    config = write_agent_files(tmp_path, free_port(), free_port(), str(scanner.link))  # no broker needed
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--config", str(config), "--test"],
                               cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    logs: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [logs.put(line) for line in process.stderr], daemon=True).start()
    try:
        assert process.stdout is not None
        beat = decode_event(process.stdout.readline().encode())  # the start-up heartbeat, as wire JSON
        assert isinstance(beat, Heartbeat) and beat.store == "S001"
        # bytes sent before the agent opened the port would be flushed by the open: wait for it
        while "scanner=counter1 state=open" not in logs.get(timeout=30):
            pass
        scanner.send(b"6901234567892\r\n")  # no document open: refused, reported as an event
        refused = decode_event(process.stdout.readline().encode())
        assert isinstance(refused, ScanRefused) and refused.problem == "commodity_barcode"
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
        scanner.close()
    result = CliRunner().invoke(main, ["status", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "outbox        2 waiting of 2000000" in result.output  # printed, never acknowledged
    assert "last upload   never" in result.output
    assert "device        counter1: " in result.output
