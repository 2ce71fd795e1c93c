"""The collector's resend requests (cmd/resend): the uplink publishes the acknowledged events of
the range it still keeps again, and refuses a malformed request without stopping. Real Mosquitto."""

from __future__ import annotations

from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from agent.outbox import SqliteOutbox
from agent.uplink.mqtt import MqttUplink
from drugtrace.resend import ResendRequest, encode_request
from tests.agent.uplink.support import Collecting, agent_config
from tests.support.mosquitto import MosquittoBroker
from tests.support.sample_events import realistic_mix
from tests.support.waiting import wait_until

pytestmark = pytest.mark.mosquitto


def test_sent_between_gives_only_acknowledged_events_of_the_range(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.sqlite", store="S001", capacity=100)
    sealed = outbox.commit(None, realistic_mix(10))
    outbox.mark_sent(6)
    assert [p.seq for p in outbox.sent_between(1, 10, 100)] == [1, 2, 3, 4, 5, 6]  # 7-10 go the normal way
    assert [p.seq for p in outbox.sent_between(3, 5, 2)] == [3, 4]
    assert [p.id for p in outbox.sent_between(2, 2, 10)] == [sealed[1].id]
    outbox.close()


def test_a_resend_request_publishes_that_range_again_and_a_bad_one_is_dropped(
        tmp_path: Path, mosquitto: MosquittoBroker) -> None:
    config = agent_config(tmp_path, mosquitto.port, outbox={"batch_size": 3})
    outbox = SqliteOutbox(config.outbox_path, store=config.store_id, capacity=config.outbox.capacity)
    committed = outbox.commit(None, realistic_mix(20))
    subscriber = Collecting(mosquitto.port)
    uplink = MqttUplink(config, outbox)
    uplink.start()
    collector = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="collector", protocol=mqtt.MQTTv5)
    collector.connect("127.0.0.1", mosquitto.port)
    collector.loop_start()
    try:
        assert [e.id for e in subscriber.take(20)] == [e.id for e in committed]
        assert uplink.wait_acked(20, timeout=20)
        topic = config.topic("cmd/resend")
        collector.publish(topic, b'{"from_seq": 9, "to_seq": 2}', qos=1).wait_for_publish(10)
        collector.publish(topic, encode_request(ResendRequest(from_seq=5, to_seq=12)), qos=1).wait_for_publish(10)
        again = subscriber.take(8, timeout=20)
        assert [e.id for e in again] == [e.id for e in committed[4:12]]  # in seq order, batches of 3
        wait_until(lambda: outbox.commands() == [], 10, "the inbox to empty")
        assert uplink.health.events_resent == 8
    finally:
        uplink.stop()
        collector.loop_stop()
        collector.disconnect()
        subscriber.close()
        outbox.close()
    assert subscriber.events.empty() and subscriber.failures == []
