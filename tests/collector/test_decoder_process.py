"""Decoding in a process of its own: the same rows as decoding in place, in the order fed, each
chunk exactly once even when the process is killed; and, against a real Mosquitto, no event lost
or stored twice when the decoder process dies mid-ingest."""

from __future__ import annotations

import os
import queue
import signal
import threading
from pathlib import Path

import pytest

from collector.broker.topics import events_topic
from collector.ingest import decoder_process
from collector.ingest.decode import Decoded, Message, decode_messages
from collector.ingest.decoder_process import DecoderProcess, decode_wire
from collector.ingest.subscriber import Subscriber
from collector.ledger_service import LedgerService
from collector.runner import open_ledger
from drugtrace.wire import encode_batch
from tests.collector.brokers import Client, secured_broker
from tests.collector.helpers import COUNTY, T0, box, message, receipt, sale
from tests.support.waiting import wait_until



def chunk(n: int) -> list[Message]:
    """Two messages: box n received and sold at S1; and a payload that is not JSON (quarantined)."""
    return [message("S1", [receipt("S1", 2 * n + 1, 0, box(n)), sale("S1", 2 * n + 2, 5, box(n))]),
            Message(f"drugtrace/{COUNTY}/S1/events", b"not json %d" % n, T0)]


def columns(decoded: Decoded) -> tuple:  # type: ignore[type-arg]
    """What the writer stores of a decoded chunk (the decoded structs stay in the decoder process)."""
    return [e[:11] for e in decoded.events], decoded.quarantine, decoded.statuses, decoded.messages


class Collected:
    def __init__(self) -> None:
        self.delivered: queue.Queue[tuple[list[Message], Decoded]] = queue.Queue()

    def deliver(self, fed: list[Message], decoded: Decoded) -> None:
        self.delivered.put((fed, decoded))

    def take(self, count: int) -> list[tuple[list[Message], Decoded]]:
        return [self.delivered.get(timeout=30) for _ in range(count)]


def test_chunks_come_back_in_order_decoded_as_in_place() -> None:
    collected = Collected()
    decoder = DecoderProcess(COUNTY, collected.deliver)
    decoder.start()
    try:
        fed = [chunk(n) for n in range(10)]
        for each in fed:
            assert decoder.feed(each)
        delivered = collected.take(10)
        assert [got for got, _ in delivered] == fed
        for got, decoded in delivered:
            assert columns(decoded) == columns(decode_messages(got, COUNTY))
            assert len(decoded.events) == 2 and len(decoded.quarantine) == 1
        assert decoder.restarts == 0
    finally:
        decoder.stop()


def test_a_killed_decoder_process_is_replaced_and_every_chunk_delivered_once_in_order() -> None:
    gate = threading.Event()
    collected = Collected()

    def deliver(fed: list[Message], decoded: Decoded) -> None:
        gate.wait(30)  # hold the first delivery, so that chunks are in flight when the process dies
        collected.deliver(fed, decoded)

    decoder = DecoderProcess(COUNTY, deliver)
    decoder.start()
    try:
        fed = [chunk(n) for n in range(4)]
        for each in fed:
            decoder.feed(each)
        first = decoder.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        gate.set()
        fed += [chunk(n) for n in range(4, 12)]
        for each in fed[4:]:
            decoder.feed(each)
        delivered = collected.take(12)
        assert [got for got, _ in delivered] == fed
        assert all(columns(decoded) == columns(decode_messages(got, COUNTY)) for got, decoded in delivered)
        assert decoder.restarts >= 1 and decoder.pid != first
        assert collected.delivered.empty()
    finally:
        decoder.stop()


def test_a_decoding_bug_quarantines_the_chunk_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(messages: list[Message], county: str) -> Decoded:
        raise RuntimeError("decoder bug")

    monkeypatch.setattr(decoder_process, "decode_messages", broken)
    fed = chunk(1)
    number, rows, quarantine, statuses, messages = decode_wire(COUNTY, (7, [(m.topic, m.payload, m.received_at)
                                                                             for m in fed]))
    assert (number, rows, statuses, messages) == (7, [], [], 2)
    assert [q.raw for q in quarantine] == [m.payload for m in fed]
    assert all("RuntimeError('decoder bug')" in q.reason for q in quarantine)


def test_ingest_loses_nothing_when_the_decoder_process_is_killed(tmp_path: Path) -> None:
    with secured_broker("mosquitto", tmp_path) as broker:
        config = broker.config
        ledger = open_ledger(config)
        subscriber = Subscriber(LedgerService(ledger, config.county, config.rules), config.broker,
                                broker.accounts["collector"].password, config.ingest)
        subscriber.start()
        assert subscriber.subscribed.wait(10)
        assert subscriber.decoder_process is not None  # the default
        s1 = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        total = 0

        def publish(numbers: range) -> None:
            nonlocal total
            for n in numbers:
                s1.publish(events_topic("C1", "S1"), encode_batch("S1", [receipt("S1", 2 * n + 1, 0, box(n)),
                                                                          sale("S1", 2 * n + 2, 5, box(n))]))
                total += 2

        publish(range(0, 50))
        first = subscriber.decoder_process.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        publish(range(50, 100))
        wait_until(lambda: ledger.counts()["events"] >= total, 30, "every event stored")
        assert subscriber.decoder_process.restarts == 1 and subscriber.decoder_process.pid != first
        assert subscriber.stats.snapshot()["restarts:decoder"] == 1  # /metrics: drugtrace_process_restarts_total
        subscriber.stop()
        counts = ledger.counts()
        assert counts["events"] == total == 200 and counts["quarantined"] == 0
        s1.close()
        ledger.close()
