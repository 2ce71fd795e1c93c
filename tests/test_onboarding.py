"""Across both programs: a store onboarded with `store add` uploads to the collector through either broker.

The snippet the collector prints must be accepted as-is by the agent's configuration, and the
agent must speak a protocol the broker understands (amqtt: MQTT 3.1.1; Mosquitto: MQTT 5).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import MqttProtocol, load_agent_config
from agent.outbox import SqliteOutbox
from agent.uplink.mqtt import MqttUplink
from collector.broker.credentials import agent_snippet
from drugtrace.wire import decode_batch
from tests.collector.brokers import Client, secured_broker
from tests.support.sample_events import realistic_mix


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
def test_store_add_snippet_configures_an_agent_that_uploads(tmp_path: Path, kind: str) -> None:
    (tmp_path / "county").mkdir()
    with secured_broker(kind, tmp_path / "county", stores=("S1",)) as broker:
        snippet = agent_snippet(broker.config, broker.accounts["S1"], "127.0.0.1")
        (tmp_path / "county.key").write_text("county-pseudonym-key-0123456789")
        config_path = tmp_path / "agent.toml"
        config_path.write_text(
            'data_dir = "data"\npseudonym_key_file = "county.key"\n' + snippet
            + '\n[web]\nport = 18081\ntoken = "pos-token-0123456789abcdef"\n')
        config = load_agent_config(config_path, environ={})
        assert config.mqtt.protocol is (MqttProtocol.V311 if kind == "embedded" else MqttProtocol.V5)

        collector = Client(broker.port, "collector", broker.accounts["collector"].password, "collector-test")
        assert collector.accepted and collector.subscribe("drugtrace/C1/S1/events")
        outbox = SqliteOutbox(config.outbox_path, store=config.store_id, capacity=config.outbox.capacity)
        sent = outbox.commit(None, realistic_mix(30, store="S1"))
        uplink = MqttUplink(config, outbox)
        uplink.start()
        try:
            received: list[object] = []
            while len(received) < len(sent):
                topic, payload = collector.inbox.get(timeout=20)
                decoded = decode_batch(payload)
                assert topic == "drugtrace/C1/S1/events" and decoded.failures == []
                received += decoded.events
            assert uplink.wait_acked(sent[-1].seq, timeout=20)
        finally:
            uplink.stop()
            collector.close()
        assert [e.id for e in received] == [e.id for e in sent]
