"""Collector commands (cmd/{name}) are kept in the outbox's inbox until their answer's PUBACK: a
connection lost before the answer went out, or an agent restart, never loses a request. Real Mosquitto."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.outbox import SqliteOutbox
from agent.uplink.mqtt import MqttUplink
from tests.agent.uplink.support import agent_config, durable_broker
from tests.support.waiting import wait_until

pytestmark = pytest.mark.mosquitto
CMD = "drugtrace/C1/S001/cmd/still"
UPLOAD = "drugtrace/C1/S001/upload/still"


class Auditor:
    """The collector's side: a persistent session subscribed to the store's uploads; publishes commands."""

    def __init__(self, port: int) -> None:
        self.uploads: queue.Queue[bytes] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="auditor", protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, *_: c.subscribe(UPLOAD, 1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = lambda _c, _u, message: self.uploads.put(bytes(message.payload))
        self.client.reconnect_delay_set(0.1, 0.5)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, 30, clean_start=False, properties=props)
        self.client.loop_start()
        assert subscribed.wait(10)

    def ask(self, payload: bytes) -> None:
        self.client.publish(CMD, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _answer(payload: bytes) -> bytes | None:
    return None if payload == b"refuse" else b"still for " + payload


def test_a_request_kept_when_the_connection_drops_before_the_upload_is_answered_after_reconnect(
        tmp_path: Path) -> None:
    broker = durable_broker(tmp_path / "broker")
    auditor = Auditor(broker.port)
    config = agent_config(tmp_path, broker.port)
    outbox = SqliteOutbox(config.outbox_path, store="S001", capacity=100)
    calls: list[bytes] = []
    broker_down = threading.Event()

    def handler(payload: bytes) -> bytes | None:
        calls.append(payload)
        if len(calls) == 1:  # the connection drops between the request and its upload
            broker.stop()
            broker_down.set()
        return _answer(payload)

    uplink = MqttUplink(config, outbox, commands={"still": handler})
    uplink.start()
    try:
        wait_until(lambda: uplink.health.connected, 10, "the uplink to connect")
        auditor.ask(b"SETL-1")
        assert broker_down.wait(10)
        assert [(c.name, c.payload) for c in outbox.commands()] == [("still", b"SETL-1")]  # kept while offline
        broker.start()
        assert auditor.uploads.get(timeout=20) == b"still for SETL-1"
        wait_until(lambda: outbox.commands() == [], 10, "the inbox to empty")  # forgotten only after the upload's PUBACK
    finally:
        uplink.stop()
        auditor.close()
        broker.kill()
        outbox.close()
    assert calls == [b"SETL-1", b"SETL-1"]
    assert auditor.uploads.empty()


def test_requests_kept_by_a_previous_run_are_answered_after_restart_once(tmp_path: Path) -> None:
    broker = durable_broker(tmp_path / "broker")
    auditor = Auditor(broker.port)
    config = agent_config(tmp_path, broker.port)
    outbox = SqliteOutbox(config.outbox_path, store="S001", capacity=100)
    assert outbox.record_command("still", b"SETL-2")
    assert not outbox.record_command("still", b"SETL-2")  # a redelivered request is one entry
    assert outbox.record_command("still", b"refuse")
    outbox.close()

    outbox = SqliteOutbox(config.outbox_path, store="S001", capacity=100)  # the agent restarted
    uplink = MqttUplink(config, outbox, commands={"still": _answer})
    uplink.start()
    try:
        assert auditor.uploads.get(timeout=20) == b"still for SETL-2"
        wait_until(lambda: outbox.commands() == [], 10, "the inbox to empty")  # answered, and the refused one removed
    finally:
        uplink.stop()
        auditor.close()
        broker.kill()
        outbox.close()
    assert uplink.commands_handled == 2
    assert auditor.uploads.empty()


def test_a_request_after_the_inbox_emptied_is_answered_on_the_same_connection(tmp_path: Path) -> None:
    """The inbox gives a new command the id of the last one forgotten: it must not pass for already tried."""
    broker = durable_broker(tmp_path / "broker")
    auditor = Auditor(broker.port)
    config = agent_config(tmp_path, broker.port)
    outbox = SqliteOutbox(config.outbox_path, store="S001", capacity=100)
    uplink = MqttUplink(config, outbox, commands={"still": _answer})
    uplink.start()
    try:
        wait_until(lambda: uplink.health.connected, 10, "the uplink to connect")
        auditor.ask(b"SETL-A")
        assert auditor.uploads.get(timeout=20) == b"still for SETL-A"
        wait_until(lambda: outbox.commands() == [], 10, "the inbox to empty")
        auditor.ask(b"SETL-B")
        assert auditor.uploads.get(timeout=20) == b"still for SETL-B"
    finally:
        uplink.stop()
        auditor.close()
        broker.kill()
        outbox.close()
    assert uplink.health.connects == 1
