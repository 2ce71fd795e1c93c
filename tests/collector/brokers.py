"""Both brokers set up as shipped, with accounts made by `store add`, for integration tests."""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from collector.broker.credentials import Account, add_store, collector_account, set_embedded_password
from collector.broker.embedded import EmbeddedBroker
from collector.config import CollectorConfig, load
from tests.support.mosquitto import MosquittoBroker, free_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CONF = ROOT / "firmware_configs/mosquitto/mosquitto.conf"
# The fixture supplies its own listener, persistence folder and log destination.
_FIXTURE_OWNS = ("listener", "persistence_location", "password_file", "acl_file", "log_dest", "log_type",
                 "persistence ", "max_queued_messages")


def shipped_mosquitto_lines(config: CollectorConfig) -> list[str]:
    """The shipped mosquitto.conf, minus what the test fixture sets, plus this test's files."""
    lines = [line.strip() for line in SHIPPED_CONF.read_text().splitlines()]
    kept = [line for line in lines if line and not line.startswith("#") and not line.startswith(_FIXTURE_OWNS)]
    extra = [*kept, f"password_file {config.path(config.broker.mosquitto_password_file)}",
             f"acl_file {config.path(config.broker.mosquitto_acl_file)}", "max_queued_messages 200000"]
    if os.geteuid() == 0:
        extra.append("user root")  # as root mosquitto would switch to `mosquitto`, who cannot read tmp_path
    return extra


def make_config(tmp_path: Path, port: int, mode: str, county: str = "C1") -> CollectorConfig:
    path = tmp_path / "collector.toml"
    path.write_text(f'county = "{county}"\ndata_dir = "data"\n[broker]\nmode = "{mode}"\nport = {port}\n'
                    f'[web]\nport = 0\n[ingest]\ncommit_interval_ms = 20\n')
    return load(path, environ={})


@dataclass
class SecuredBroker:
    kind: str
    port: int
    config: CollectorConfig
    accounts: dict[str, Account]
    mosquitto: MosquittoBroker | None = None


@contextmanager
def secured_broker(kind: str, tmp_path: Path, stores: tuple[str, ...] = ("S1", "S2")) -> Iterator[SecuredBroker]:
    port = free_port()
    config = make_config(tmp_path, port, "external" if kind == "mosquitto" else "embedded")
    accounts = {"collector": collector_account(config)}
    accounts.update({store: add_store(config, store) for store in stores})
    if kind == "mosquitto":
        broker = MosquittoBroker(tmp_path / "mosquitto", shipped_mosquitto_lines(config), port=port)
        broker.start()
        try:
            yield SecuredBroker(kind, port, config, accounts, broker)
        finally:
            broker.kill()
    else:
        password_file = config.path(config.broker.embedded_password_file)
        set_embedded_password(password_file, "collector", accounts["collector"].password)
        embedded = EmbeddedBroker("127.0.0.1", port, password_file, config.county)
        embedded.start()
        try:
            yield SecuredBroker(kind, port, config, accounts)
        finally:
            embedded.stop()


class Client:
    """A paho client that reports connect result, subscriptions and messages through queues."""

    def __init__(self, port: int, username: str | None, password: str | None, client_id: str,
                 clean_session: bool = True) -> None:
        self.connects: queue.Queue[object] = queue.Queue()
        self.subacks: queue.Queue[list[object]] = queue.Queue()
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.mqtt = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                                clean_session=clean_session)
        if username is not None:
            self.mqtt.username_pw_set(username, password)
        self.mqtt.on_connect = lambda c, u, f, rc, p: self.connects.put(rc)
        self.mqtt.on_subscribe = lambda c, u, mid, rcs, p: self.subacks.put(rcs)
        self.mqtt.on_message = lambda c, u, m: self.inbox.put((m.topic, m.payload))
        self.mqtt.connect("127.0.0.1", port)
        self.mqtt.loop_start()
        self.result = self.connects.get(timeout=10)

    @property
    def accepted(self) -> bool:
        return not getattr(self.result, "is_failure", True)

    def subscribe(self, topic: str) -> bool:
        self.mqtt.subscribe(topic, qos=1)
        return not any(getattr(r, "is_failure", False) for r in self.subacks.get(timeout=10))

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.mqtt.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.mqtt.disconnect()
        self.mqtt.loop_stop()
