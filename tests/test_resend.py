"""Across both programs: events the broker acknowledged to the agent but never delivered (a broker
killed between autosaves) are found missing by the collector, asked for, and sent again."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import msgspec
import pytest

from agent.config import load_agent_config
from agent.outbox import SqliteOutbox
from agent.uplink.mqtt import MqttUplink
from collector.broker.credentials import agent_snippet
from collector.ingest.decode import Decoded
from collector.ingest.stats import IngestStats
from collector.ingest.subscriber import Subscriber
from collector.ledger_service import LedgerService, Outcome
from collector.sequences import Received, StoreSequence
from collector.store.base import AlertState
from collector.store.sqlite import SQLiteLedger
from tests.collector.brokers import secured_broker
from tests.support.sample_events import realistic_mix


class Watched(LedgerService):
    """The real service, telling a test when the ledger holds a given number of events."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.changed = threading.Condition()

    def ingest_decoded(self, decoded: Decoded, now: dt.datetime) -> Outcome:
        outcome = super().ingest_decoded(decoded, now)
        with self.changed:
            self.changed.notify_all()
        return outcome

    def wait_events(self, ledger: SQLiteLedger, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: ledger.counts()["events"] >= count, timeout)


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
def test_events_lost_after_the_brokers_ack_are_asked_for_and_sent_again(tmp_path: Path, kind: str) -> None:
    (tmp_path / "county").mkdir()
    with secured_broker(kind, tmp_path / "county", stores=("S1",)) as broker:
        ingest = msgspec.structs.replace(broker.config.ingest, resend_after_s=1, resend_retry_s=30)
        ledger = SQLiteLedger(tmp_path / "ledger.db")
        service = Watched(ledger, "C1", broker.config.rules)
        subscriber = Subscriber(service, broker.config.broker, broker.accounts["collector"].password, ingest,
                                IngestStats(), shared=False)
        subscriber.resend_check_s = 0.2
        subscriber.start()
        assert subscriber.subscribed.wait(10)

        (tmp_path / "county.key").write_text("county-pseudonym-key-0123456789")
        config_path = tmp_path / "agent.toml"
        config_path.write_text('data_dir = "data"\npseudonym_key_file = "county.key"\n'
                               + agent_snippet(broker.config, broker.accounts["S1"], "127.0.0.1")
                               + '\n[web]\nport = 18082\ntoken = "pos-token-0123456789abcdef"\n')
        config = load_agent_config(config_path, environ={})
        outbox = SqliteOutbox(config.outbox_path, store=config.store_id, capacity=config.outbox.capacity)
        sent = outbox.commit(None, realistic_mix(30, store="S1"))
        outbox.mark_sent(sent[9].seq)  # the broker acknowledged seq 1-10, then died before saving them
        uplink = MqttUplink(config, outbox)
        uplink.start()
        try:
            assert service.wait_events(ledger, len(sent), timeout=30), ledger.sequences()
            assert uplink.wait_acked(sent[-1].seq, timeout=10)
        finally:
            uplink.stop()
            subscriber.stop()
        stored = ledger.conn.execute("SELECT id, seq FROM events WHERE store = 'S1' ORDER BY seq").fetchall()
        assert stored == [(e.id, e.seq) for e in sent]  # each once, the lost ten included
        assert ledger.sequences()["S1"] == StoreSequence(Received(sent[-1].seq))
        assert ledger.alerts(AlertState.OPEN) == []  # the resend raised no duplicate alert
        assert uplink.health.events_resent == 10 and outbox.commands() == []
        ledger.close()
        outbox.close()
