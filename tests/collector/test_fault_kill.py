"""The collector killed with SIGKILL mid-ingest and restarted: nothing lost, nothing twice.

Runs `drugtrace-collector run` as a real subprocess against a real Mosquitto set up as shipped.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from collector.ledger_service import LedgerService
from collector.rules import RuleSettings
from collector.store.sqlite import SQLiteLedger
from drugtrace.events import AnyEvent
from drugtrace.wire import encode_batch
from tests.collector.brokers import Client, secured_broker
from tests.collector.helpers import message, receipt, sale
from tests.support.sample_events import nmpa_code, realistic_mix
from tests.support.waiting import wait_until

STORES = ("S1", "S2", "S3")


def _traffic() -> dict[str, list[AnyEvent]]:
    """Each store's realistic day, plus codes sold at two stores and twice at one (alerts to count)."""
    traffic = {store: realistic_mix(1000, store=store, seed=index) for index, store in enumerate(STORES)}
    rng = random.Random(7)
    for n in range(20):
        code = nmpa_code(rng)
        a, b = STORES[n % 3], STORES[(n + 1) % 3]
        traffic[a] += [receipt(a, 1000 + n * 3, n, code), sale(a, 1001 + n * 3, n + 1, code)]
        traffic[b] += [sale(b, 1002 + n * 3, n + 2, code)]
    return traffic


class Collector:
    def __init__(self, config_path: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        self.process = subprocess.Popen([sys.executable, "-m", "collector.cli", "run", "--config", str(config_path)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.output: list[str] = []
        self.subscribed = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "ingest subscribed." in line:
                self.subscribed.set()
        self.subscribed.set()


def _event_count(path: Path) -> int:
    """Events committed so far, read cheaply (polled every few milliseconds until the kill)."""
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        conn.close()


def test_sigkill_mid_ingest_then_restart_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    with secured_broker("mosquitto", tmp_path, STORES) as broker:
        config_path = tmp_path / "collector.toml"
        config_path.write_text(config_path.read_text().replace("commit_interval_ms = 20", "batch_messages = 2\n"
                                                               "commit_interval_ms = 5"))
        ledger_path = broker.config.path(broker.config.store.path)
        first = Collector(config_path)
        assert first.subscribed.wait(30) and first.process.poll() is None, "".join(first.output)
        traffic = _traffic()
        total = sum(len(events) for events in traffic.values())
        for store, events in traffic.items():
            agent = Client(broker.port, store, broker.accounts[store].password, f"agent-{store}")
            for start in range(0, len(events), 20):
                agent.publish(f"drugtrace/C1/{store}/events", encode_batch(store, events[start:start + 20]))
            agent.close()
        wait_until(lambda: _event_count(ledger_path) > 0, 30, "ingest never started", poll_s=0.002)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
        stored_at_kill = _event_count(ledger_path)
        assert 0 < stored_at_kill < total, f"the kill must land mid-ingest: {stored_at_kill} of {total} stored"
        second = Collector(config_path)
        wait_until(lambda: _event_count(ledger_path) >= total, 60, "events lost after restart")
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(20) == 0, "".join(second.output)

        ledger = SQLiteLedger(ledger_path)
        rows = ledger.conn.execute("SELECT count(*), count(DISTINCT id || store) FROM events").fetchone()
        assert rows == (total, total)
        alerts = ledger.conn.execute("SELECT rule, subject, count(*) FROM alerts GROUP BY rule, subject").fetchall()
        assert alerts and all(count == 1 for _, _, count in alerts)
        # the same traffic ingested once, calmly, gives the same alerts
        reference = SQLiteLedger(tmp_path / "reference.db")
        service = LedgerService(reference, "C1", RuleSettings())
        now = dt.datetime.now(dt.timezone.utc)
        service.ingest([message(store, events) for store, events in traffic.items()], now)
        expected = reference.conn.execute("SELECT rule, subject, 1 FROM alerts WHERE state = 'open'").fetchall()
        got = ledger.conn.execute("SELECT rule, subject, 1 FROM alerts WHERE state = 'open'").fetchall()
        assert sorted(got) == sorted(expected)
        assert ("sold_at_two_stores", 1) in {(rule, 1) for rule, _, _ in alerts}
        ledger.close()
        reference.close()
