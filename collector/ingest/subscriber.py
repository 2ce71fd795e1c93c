"""The paho-mqtt 2 subscriber: receive, hand off, commit a batch, then acknowledge.

The network callback only puts the message on a queue (no I/O in callbacks); the worker thread
takes up to `batch_messages` messages (or what arrived within `commit_interval_ms`), ingests them
in one transaction and only then sends each PUBACK (`manual_ack=True`). A crash before the
commit leaves the messages unacknowledged: the broker delivers them again, and idempotent
ingest by (store, event id) makes that harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt

from collector.broker.topics import ingest_filter
from collector.config import Broker, Ingest
from collector.ingest.decode import Message
from collector.ingest.stats import IngestStats
from collector.ledger_service import LedgerService

log = logging.getLogger(__name__)
STATUS_FILTER = "drugtrace/+/+/status"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Subscriber:
    """Runs the MQTT client and the ingest worker; `start()`, then `stop()`."""

    def __init__(self, service: LedgerService, broker: Broker, password: str, ingest: Ingest,
                 stats: IngestStats | None = None, clock: Callable[[], dt.datetime] = utcnow,
                 shared: bool = True) -> None:
        self.service = service
        self.broker = broker
        self.ingest_settings = ingest
        self.stats = stats or IngestStats()
        self.clock = clock
        self.filter = ingest_filter(broker.shared_group if shared else "")
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=broker.client_id, clean_session=False,
                             protocol=mqtt.MQTTv311, manual_ack=True)
        client.username_pw_set(broker.username, password)
        if broker.tls:
            client.tls_set(ca_certs=broker.ca_file or None, certfile=broker.cert_file or None,
                           keyfile=broker.key_file or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.max_inflight_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.reconnect_delay_set(0.2, 5)
        self.client = client

    # -- callbacks: record and hand off, nothing else ----------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                    properties: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker refused the collector's connection: %s", reason)
            return
        self.connected.set()
        client.subscribe([(self.filter, 1), (STATUS_FILTER, 1)])

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                       properties: object) -> None:
        self.connected.clear()
        self.subscribed.clear()

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reasons: list, properties: object) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error("broker refused the collector's subscriptions: %s", reasons)
            return
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(Message(msg.topic, msg.payload, self.clock(), msg.mid, msg.qos))

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._worker = threading.Thread(target=self._work, name="ingest-worker", daemon=True)
        self._worker.start()
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(30)
        self.client.disconnect()
        self.client.loop_stop()

    # -- the worker -----------------------------------------------------------------------------------

    def _take_batch(self, first: Message) -> list[Message]:
        batch = [first]
        deadline = time.monotonic() + self.ingest_settings.commit_interval_ms / 1000
        while len(batch) < self.ingest_settings.batch_messages:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self.inbox.get(timeout=remaining))
                except queue.Empty:
                    break
        return batch

    def _work(self) -> None:
        period = self.ingest_settings.periodic_rules_s
        next_periodic = time.monotonic() + period
        while not self._stop.is_set():
            if time.monotonic() >= next_periodic:
                self._run(lambda: self.service.periodic(self.clock()))
                next_periodic = time.monotonic() + period
            try:
                first = self.inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = self._take_batch(first)
            while not self._stop.is_set():
                now = self.clock()
                outcome = self._run(lambda: self.service.ingest(batch, now))
                if outcome is not None:
                    break
                time.sleep(1.0)  # the database refused: keep the batch (unacknowledged) and retry
            else:
                return  # stopping with an uncommitted batch: the broker will deliver it again
            for message in batch:
                if message.qos > 0:
                    self.client.ack(message.mid, message.qos)
            self.stats.record(len(batch), outcome.new, outcome.duplicates, outcome.quarantined, outcome.statuses,
                              outcome.alerts, now)

    def _run(self, job: Callable[[], object]) -> object | None:
        try:
            return job()
        except Exception:  # never let one bad batch kill ingest; counted and logged, then retried
            self.stats.failed()
            log.exception("ingest transaction failed; will retry")
            return None
