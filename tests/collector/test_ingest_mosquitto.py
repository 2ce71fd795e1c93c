"""MQTT ingest against a real Mosquitto set up as shipped: commit-then-ack, quarantine, redelivery."""

from __future__ import annotations

import queue
from pathlib import Path

from collector.broker.topics import events_topic, status_topic
from collector.ingest.stats import IngestStats
from collector.ingest.subscriber import Subscriber
from collector.ledger_service import LedgerService
from collector.store.base import AlertState
from collector.store.sqlite import SQLiteLedger
from drugtrace.wire import encode_batch
from tests.collector.brokers import Client, secured_broker
from tests.collector.helpers import receipt, sale


class Committed:
    """Wraps the service so a test can wait for commits instead of sleeping."""

    def __init__(self, service: LedgerService) -> None:
        self.service = service
        self.county = service.county
        self.done: queue.Queue[int] = queue.Queue()

    def ingest_decoded(self, decoded, now):  # type: ignore[no-untyped-def]
        outcome = self.service.ingest_decoded(decoded, now)
        self.done.put(decoded.messages)
        return outcome

    def periodic(self, now):  # type: ignore[no-untyped-def]
        return self.service.periodic(now)

    def resend_requests(self, now, policy):  # type: ignore[no-untyped-def]
        return self.service.resend_requests(now, policy)

    def wait_messages(self, count: int, timeout: float = 20) -> None:
        seen = 0
        while seen < count:
            seen += self.done.get(timeout=timeout)


def test_events_commit_quarantine_and_redelivery_through_real_mosquitto(tmp_path: Path) -> None:
    with secured_broker("mosquitto", tmp_path) as broker:
        ledger = SQLiteLedger(tmp_path / "ledger.db")
        service = Committed(LedgerService(ledger, "C1", broker.config.rules))
        subscriber = Subscriber(service, broker.config.broker, broker.accounts["collector"].password,  # type: ignore[arg-type]
                                broker.config.ingest, IngestStats())
        subscriber.start()
        assert subscriber.subscribed.wait(10)
        s1 = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        s2 = Client(broker.port, "S2", broker.accounts["S2"].password, "agent-S2")
        got, sold = receipt("S1", 1, 0), sale("S1", 2, 10)
        again = sale("S2", 1, 20)
        good = encode_batch("S1", [got, sold])
        s1.publish(events_topic("C1", "S1"), good)
        s1.publish(events_topic("C1", "S1"), good)  # the agent resends after a lost PUBACK
        s2.publish(events_topic("C1", "S2"), encode_batch("S2", [again]))
        s2.publish(events_topic("C1", "S2"), encode_batch("S1", [sale("S1", 9, 30)]))  # claims to be S1
        s2.publish(events_topic("C1", "S2"), b'{"v": 1, "store": "S2", "events": [{"type": "sale"}]}')
        s2.publish(status_topic("C1", "S2"), b'{"state": "online", "at": "2026-11-23T09:00:00+08:00"}', retain=True)
        service.wait_messages(6)
        counts = ledger.counts()
        assert counts["events"] == 3
        assert counts["quarantined"] == 2
        reasons = sorted(q.reason for _, q, _, _ in ledger.quarantine_entries())
        assert reasons[0].startswith("Expected batch store 'S2' (from the topic), got 'S1'.")
        assert reasons[1].startswith("Invalid event: ") and "(event 0)" in reasons[1]
        assert [(s.store, s.state) for s in ledger.statuses()] == [("S2", "online")]
        alerts = ledger.alerts(AlertState.OPEN, rule="sold_at_two_stores")
        assert len(alerts) == 1 and set(alerts[0].evidence) >= {sold.id, again.id}
        subscriber.stop()  # joins the writer: its counters are final
        assert subscriber.stats.snapshot()["events_duplicate"] == 2
        ledger.close()
        s1.close()
        s2.close()


def test_messages_published_while_the_collector_is_away_arrive_when_it_returns(tmp_path: Path) -> None:
    """The persistent session holds them; nothing is acknowledged until committed."""
    with secured_broker("mosquitto", tmp_path) as broker:
        ledger = SQLiteLedger(tmp_path / "ledger.db")
        first = Committed(LedgerService(ledger, "C1", broker.config.rules))
        subscriber = Subscriber(first, broker.config.broker, broker.accounts["collector"].password,  # type: ignore[arg-type]
                                broker.config.ingest)
        subscriber.start()
        assert subscriber.subscribed.wait(10)
        subscriber.stop()
        s1 = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        events = [receipt("S1", seq, seq) for seq in range(1, 51)]
        for start in range(0, 50, 10):
            s1.publish(events_topic("C1", "S1"), encode_batch("S1", events[start:start + 10]))
        second = Committed(LedgerService(ledger, "C1", broker.config.rules))
        again = Subscriber(second, broker.config.broker, broker.accounts["collector"].password,  # type: ignore[arg-type]
                           broker.config.ingest)
        again.start()
        second.wait_messages(5)
        assert ledger.counts()["events"] == 50
        again.stop()
        ledger.close()
        s1.close()
