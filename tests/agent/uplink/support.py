"""Test helpers for the agent's plumbing: a collecting subscriber on a real broker, a config factory."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

import msgspec

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.config import AgentConfig, MqttConfig, OutboxConfig, WebConfig
from drugtrace.events import AnyEvent
from drugtrace.wire import decode_batch
from tests.support.mosquitto import MosquittoBroker


class Collecting:
    """Subscribes (persistent session, QoS 1) and queues (topic, event); bad payloads go to `failures`."""

    def __init__(self, port: int, topic: str = "drugtrace/+/+/events", client_id: str = "test-subscriber",
                 username: str | None = None, password: str | None = None) -> None:
        self.events: queue.Queue[tuple[str, AnyEvent]] = queue.Queue()
        self.retained: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.failures: list[str] = []
        self.history: list[AnyEvent] = []  # every event taken so far, in arrival order
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, *_: c.subscribe([(topic, 1), ("drugtrace/+/+/status", 1)])
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect("127.0.0.1", port, 30, clean_start=False, properties=props)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("test subscriber did not get its SUBACK")

    def _on_message(self, _client, _userdata, message) -> None:  # type: ignore[no-untyped-def]
        if message.topic.endswith("/status"):
            self.retained.put((message.topic, message.payload))
            return
        decoded = decode_batch(message.payload)
        self.failures += [f.reason for f in decoded.failures]
        for event in decoded.events:
            self.events.put((message.topic, event))

    def take(self, count: int, timeout: float = 30.0) -> list[AnyEvent]:
        """The next `count` events (queue.get with a timeout: fails loudly if they never come)."""
        taken = [self.events.get(timeout=timeout)[1] for _ in range(count)]
        self.history += taken
        return taken

    def take_unique(self, ids: set[str], timeout: float = 30.0) -> list[AnyEvent]:
        """Events until every id in `ids` arrived at least once; returns everything taken so far, in order."""
        missing = set(ids) - {event.id for event in self.history}
        while missing:
            event = self.events.get(timeout=timeout)[1]
            self.history.append(event)
            missing.discard(event.id)
        return list(self.history)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


TOKEN = "test-token-0123456789abcdef"
KEY = "test-county-pseudonym-key-0123456789"


def agent_config(tmp_path: Path, port: int, *, mqtt: dict[str, Any] | None = None,
                 outbox: dict[str, Any] | None = None, **fields: Any) -> AgentConfig:
    """A valid AgentConfig for store S001 in county C1 against the broker on `port`."""
    return AgentConfig(
        store_id=fields.pop("store_id", "S001"), county_id="C1", data_dir=str(tmp_path / "data"), pseudonym_key=KEY,
        mqtt=msgspec.convert({"port": port, "reconnect_min_s": 0.1, "reconnect_max_s": 0.5, **(mqtt or {})},
                             MqttConfig),
        outbox=msgspec.convert(outbox or {}, OutboxConfig), web=WebConfig(token=TOKEN), **fields)


CATALOGUE = ("product_id,name,product_keys,requires_code,exempt_category,no_code_list,units_per_box\n"
             "XA01,阿莫西林胶囊,8123456|09501101530003,1,,0,24\n")


def nmpa(n: int) -> str:
    """A 20-digit 码上放心 code of product XA01 (product key 8123456)."""
    return f"8123456{n:013d}"


def write_agent_files(tmp_path: Path, broker_port: int, web_port: int, scanner_device: str) -> Path:
    """An agent.toml (plus catalogue and key files) for store S001 with one RS-232 scanner."""
    (tmp_path / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    (tmp_path / "county.key").write_text(KEY)
    path = tmp_path / "agent.toml"
    path.write_text(f"""
store_id = "S001"
county_id = "C1"
data_dir = "data"
pseudonym_key_file = "county.key"
catalogue = "catalogue.csv"
[mqtt]
port = {broker_port}
reconnect_min_s = 0.1
reconnect_max_s = 0.5
[outbox]
batch_size = 100
[heartbeat]
interval_s = 3600
[web]
port = {web_port}
token = "{TOKEN}"
[[scanners]]
name = "counter1"
profile = "generic-rs232"
device = "{scanner_device}"
""")
    return path


def durable_broker(workdir: Path) -> MosquittoBroker:
    """A started broker that can write its persistence file (as root, mosquitto would otherwise drop to a
    user that cannot write into the test's private temporary folder and lose sessions on restart)."""
    broker = MosquittoBroker(workdir, extra_config=["user root"])
    broker.start()
    return broker
