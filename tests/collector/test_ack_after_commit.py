"""A batch spanning many MQTT messages is acknowledged only after its commit: a collector killed
between the commit and the PUBACKs gets every message again, and the redelivery stores nothing
twice and raises no alert twice."""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from pathlib import Path

from collector.broker.topics import events_topic
from collector.ingest.stats import IngestStats
from collector.ingest.subscriber import Subscriber
from collector.ledger_service import LedgerService
from collector.rules import RuleSettings
from collector.store.sqlite import SQLiteLedger
from drugtrace.wire import encode_batch
from tests.collector.brokers import Client, secured_broker
from tests.collector.helpers import message, receipt, sale
from tests.collector.test_ingest_mosquitto import Committed
from tests.support.sample_events import nmpa_code

MESSAGES = 30


def _traffic() -> list[list]:
    """MESSAGES messages of S1: receipts and sales, every third sale a code S1 already sold (rule 1)."""
    rng = random.Random(3)
    batches, seq = [], 0
    for n in range(MESSAGES):
        code = nmpa_code(rng)
        events = [receipt("S1", seq + 1, n, code), sale("S1", seq + 2, n + 1, code)]
        if n % 3 == 0:
            events.append(sale("S1", seq + 3, n + 2, code))
        seq += 3
        batches.append(events)
    return batches


def test_killed_between_commit_and_ack_redelivery_is_harmless(tmp_path: Path) -> None:
    with secured_broker("mosquitto", tmp_path, ("S1",)) as broker:
        config_path = tmp_path / "collector.toml"
        config_path.write_text(config_path.read_text().replace(
            "commit_interval_ms = 20", f"batch_messages = {MESSAGES}\ncommit_interval_ms = 2000"))
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        killer = subprocess.Popen([sys.executable, "-m", "tests.collector.kill_after_commit", str(config_path), "5"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert killer.stdout is not None
        assert killer.stdout.readline().strip() == "ingest subscribed."
        traffic = _traffic()
        agent = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        for events in traffic:
            agent.publish(events_topic("C1", "S1"), encode_batch("S1", events))
        agent.close()
        line = killer.stdout.readline().split()  # "committed N messages E events", then SIGKILL
        assert killer.wait(20) == -9, line
        committed_events = int(line[3])
        assert line[0] == "committed" and int(line[1]) >= 5 and committed_events > 0

        ledger = SQLiteLedger(tmp_path / "data" / "ledger.db")
        assert ledger.counts()["events"] == committed_events
        alerts_before = ledger.conn.execute("SELECT id, rule, subject FROM alerts").fetchall()
        service = Committed(LedgerService(ledger, "C1", broker.config.rules))
        stats = IngestStats()
        password = broker.accounts["collector"].password
        again = Subscriber(service, broker.config.broker, password, broker.config.ingest, stats)  # type: ignore[arg-type]
        again.start()
        service.wait_messages(MESSAGES)  # every message again: none was acknowledged
        again.stop()
        total = sum(len(events) for events in traffic)
        assert ledger.conn.execute("SELECT count(*), count(DISTINCT id) FROM events").fetchone() == (total, total)
        assert stats.snapshot()["events_duplicate"] == committed_events
        alerts = ledger.conn.execute("SELECT id, rule, subject FROM alerts").fetchall()
        assert set(alerts_before) <= set(alerts)  # the alerts committed before the kill were kept, not redone
        assert len({(rule, subject) for _, rule, subject in alerts}) == len(alerts)
        reference = SQLiteLedger(tmp_path / "reference.db")
        LedgerService(reference, "C1", RuleSettings()).ingest([message("S1", events) for events in traffic],
                                                              dt.datetime.now(dt.timezone.utc))
        expected = reference.conn.execute("SELECT rule, subject FROM alerts").fetchall()
        assert sorted((rule, subject) for _, rule, subject in alerts) == sorted(expected)
        assert len(expected) == MESSAGES // 3
        reference.close()
        ledger.close()
        killer.stdout.close()
