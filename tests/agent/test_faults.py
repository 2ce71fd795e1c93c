"""Fault tests on the real agent process (`python -m agent.cli run`), a real pty scanner and Mosquitto.

The agent is killed with SIGKILL in the middle of a stream of scans and restarted, and the broker
is stopped for a while and restarted: every scan the agent accepted arrives, none twice (by event
id), in order (seq).
"""

from __future__ import annotations

import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from drugtrace.events import Sale
from drugtrace.wire import decode_event
from tests.agent.sources.pty_scanner import PtyScanner
from tests.agent.uplink.support import TOKEN, Collecting, durable_broker, nmpa, write_agent_files
from tests.support.mosquitto import free_port

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class AgentProcess:
    """`python -m agent.cli run --config FILE` with its log lines read as they come."""

    def __init__(self, config: Path) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.process = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--config", str(config)],
                                        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._pump, daemon=True).start()
        self.expect("agent state=started")
        self.expect("scanner=counter1 state=open")

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line.rstrip())
            self.lines.put(line)

    def expect(self, text: str, timeout: float = 20.0) -> str:
        """Wait for a log line containing `text` (already logged, or the next ones as they come)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in list(self.log):
                if text in line:
                    return line
            try:
                self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"agent never logged {text!r}; log:\n" + "\n".join(self.log)) from None

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(10) == -signal.SIGKILL

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(15) == 0, "\n".join(self.log)


class Pos:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = requests.request(method, self.base + path, json=body, headers=AUTH, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()  # type: ignore[no-any-return]

    def codes(self, doc_id: str) -> list[str]:
        return [c["key"] for c in self.call("GET", f"/documents/{doc_id}")["document"]["lines"][0]["codes"]]


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, describe: Callable[[], object] = lambda: "") -> None:
    """Re-check a condition on the agent's API until it holds (the agent offers no push channel)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, f"condition not reached in time: {describe()}"
        pause.wait(0.05)


def test_kill9_mid_stream_and_broker_outage_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    broker = durable_broker(tmp_path / "broker")
    scanner = PtyScanner(tmp_path / "scanner0")
    web_port = free_port()
    config = write_agent_files(tmp_path, broker.port, web_port, str(scanner.link))
    subscriber = Collecting(broker.port)
    pos = Pos(web_port)
    agent = AgentProcess(config)
    try:
        doc_id = pos.call("POST", "/documents", {"kind": "sale"})["document"]["doc_id"]
        pos.call("POST", f"/documents/{doc_id}/lines", {"product": "XA01", "quantity": 1000, "price_fen": 100})

        # 1. a stream of 200 scans; SIGKILL once the collector side has seen some of them
        codes = [nmpa(n) for n in range(1, 301)]
        scanner.send(b"".join(code.encode() + b"\r\n" for code in codes[:200]))
        seen_before_kill: set[str] = set()
        while len(seen_before_kill) < 40:
            event = subscriber.take(1, timeout=20)[0]
            if isinstance(event, Sale) and event.code is not None:
                seen_before_kill.add(event.code.key)
        accepted_before_kill = set(pos.codes(doc_id))
        agent.kill9()
        assert seen_before_kill <= accepted_before_kill
        assert len(accepted_before_kill) < 200, "the kill came too late to be mid-stream"

        agent = AgentProcess(config)
        resumed = set(pos.codes(doc_id))
        assert accepted_before_kill <= resumed  # nothing the agent accepted is lost
        scanner.send(b"".join(c.encode() + b"\r\n" for c in codes[:200] if c not in resumed))
        wait_for(lambda: len(pos.codes(doc_id)) == 200, describe=lambda: pos.call("GET", "/counter")["recent"][:5])

        # 2. the broker goes away while the counter keeps scanning, then comes back
        broker.stop()
        scanner.send(b"".join(code.encode() + b"\r\n" for code in codes[200:260]))
        wait_for(lambda: len(pos.codes(doc_id)) == 260)  # accepted offline, from the outbox alone
        broker.start()
        scanner.send(b"".join(code.encode() + b"\r\n" for code in codes[260:]))
        wait_for(lambda: len(pos.codes(doc_id)) == 300)
        assert sorted(pos.codes(doc_id)) == sorted(codes)

        # everything committed in the outbox must arrive: read it as the agent keeps it
        outbox = sqlite3.connect(f"file:{tmp_path / 'data' / 'outbox.sqlite'}?mode=ro", uri=True)
        stored = [decode_event(bytes(body)) for (body,) in outbox.execute("SELECT body FROM events ORDER BY seq")]
        outbox.close()
        assert [e.seq for e in stored] == list(range(1, len(stored) + 1))  # gapless, nothing pruned
        received = subscriber.take_unique({e.id for e in stored}, timeout=30)
        agent.terminate()
    finally:
        if agent.process.poll() is None:
            agent.process.kill()
        subscriber.close()
        scanner.close()
        broker.kill()

    by_id = {e.id: e for e in stored}
    assert {e.id for e in received} <= set(by_id)  # nothing invented
    assert all(by_id[e.id] == e for e in received)  # redelivered copies are identical
    first_arrival: list[int] = []
    for event in received:
        if event.seq not in first_arrival:
            first_arrival.append(event.seq)
    assert first_arrival == sorted(first_arrival)  # in order per store
    sales = [e for e in stored if isinstance(e, Sale)]
    sold_codes = [e.code.key for e in sales if e.code is not None]
    assert sorted(sold_codes) == sorted(codes)  # every accepted scan is one Sale event, none twice
