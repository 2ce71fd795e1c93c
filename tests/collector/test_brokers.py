"""Security on BOTH brokers, set up as shipped: authentication and per-store topic rules."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from tests.collector.brokers import Client, secured_broker

BROKERS = ["mosquitto", "amqtt"]


@pytest.mark.parametrize("kind", BROKERS)
def test_unauthenticated_and_wrong_password_clients_are_refused(kind: str, tmp_path: Path) -> None:
    with secured_broker(kind, tmp_path) as broker:
        anonymous = Client(broker.port, None, None, "anon")
        wrong = Client(broker.port, "S1", "not-the-password", "agent-S1")
        unknown = Client(broker.port, "S9", broker.accounts["S1"].password, "agent-S9")
        right = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1b")
        assert [c.accepted for c in (anonymous, wrong, unknown, right)] == [False, False, False, True]
        for client in (anonymous, wrong, unknown, right):
            client.close()


@pytest.mark.parametrize("kind", BROKERS)
def test_a_store_cannot_publish_under_another_stores_topic(kind: str, tmp_path: Path) -> None:
    with secured_broker(kind, tmp_path) as broker:
        collector = Client(broker.port, "collector", broker.accounts["collector"].password, "collector-t")
        assert collector.subscribe("drugtrace/#")
        s1 = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        s1.publish("drugtrace/C1/S2/events", b"forged")  # S2's topic
        s1.publish("drugtrace/C2/S1/events", b"other county")
        s1.publish("drugtrace/C1/S1/cmd/reboot", b"a command")  # stores may not write commands
        s1.publish("drugtrace/C1/S1/events", b"control")  # authorised, sent last
        # Mosquitto (MQTT 3.1.1) drops unauthorised publishes silently: the control message arrives
        # and nothing sent before it on the same connection does.
        assert collector.inbox.get(timeout=10) == ("drugtrace/C1/S1/events", b"control")
        with pytest.raises(queue.Empty):
            collector.inbox.get_nowait()
        s1.close()
        collector.close()


@pytest.mark.parametrize("kind", BROKERS)
def test_a_store_reads_only_its_own_commands(kind: str, tmp_path: Path) -> None:
    with secured_broker(kind, tmp_path) as broker:
        s1 = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        s1.subscribe("drugtrace/C1/S2/cmd/#")  # refused (amqtt) or granted but never delivered (mosquitto)
        s1.subscribe("drugtrace/C1/+/events")
        assert s1.subscribe("drugtrace/C1/S1/cmd/#")
        collector = Client(broker.port, "collector", broker.accounts["collector"].password, "collector-t")
        s2 = Client(broker.port, "S2", broker.accounts["S2"].password, "agent-S2")
        collector.publish("drugtrace/C1/S2/cmd/ping", b"for S2")
        s2.publish("drugtrace/C1/S2/events", b"S2 events")
        collector.publish("drugtrace/C1/S1/cmd/ping", b"for S1")
        assert s1.inbox.get(timeout=10) == ("drugtrace/C1/S1/cmd/ping", b"for S1")
        with pytest.raises(queue.Empty):
            s1.inbox.get_nowait()
        for client in (s1, s2, collector):
            client.close()
