"""The real-Mosquitto fixture the integration tests build on: it starts, delivers, restarts."""

from __future__ import annotations

import queue

import paho.mqtt.client as mqtt

from tests.support.mosquitto import MosquittoBroker


def _client(port: int, inbox: "queue.Queue[bytes] | None" = None) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    connected: "queue.Queue[object]" = queue.Queue()
    client.on_connect = lambda c, u, f, rc, p: connected.put(rc)
    if inbox is not None:
        client.on_message = lambda c, u, msg: inbox.put(msg.payload)
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.get(timeout=10) == 0
    return client


def test_publish_subscribe_through_real_mosquitto_survives_restart(mosquitto: MosquittoBroker) -> None:
    inbox: "queue.Queue[bytes]" = queue.Queue()
    sub = _client(mosquitto.port, inbox)
    subscribed: "queue.Queue[object]" = queue.Queue()
    sub.on_subscribe = lambda *args: subscribed.put(args)
    sub.subscribe("t/#", qos=1)
    subscribed.get(timeout=10)
    pub = _client(mosquitto.port)
    pub.publish("t/1", b"hello", qos=1).wait_for_publish(10)
    assert inbox.get(timeout=10) == b"hello"
    pub.disconnect()
    pub.loop_stop()
    sub.disconnect()
    sub.loop_stop()
    mosquitto.restart()
    again = _client(mosquitto.port)
    again.disconnect()
    again.loop_stop()
