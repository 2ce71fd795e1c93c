"""The paho-mqtt 2 subscriber: receive, hand off, decode, commit a batch, then acknowledge.

Three threads, so that decoding overlaps the database's work:

- paho's network thread: the callback only puts the message on a queue (no I/O in callbacks);
- the decoder: decodes and checks messages (pure, `collector.ingest.decode`) as they arrive;
- the writer: takes decoded messages until `batch_messages` or `commit_interval_ms` after the
  first of them arrived (`take_batch`), stores and evaluates them in ONE transaction, and only
  after the commit sends each message's PUBACK (`manual_ack=True`).

A crash before the commit — or between the commit and the acks — leaves messages unacknowledged:
the broker delivers them again, and idempotent ingest by (store, event id) makes that harmless
(tests/collector/test_fault_kill.py, tests/collector/test_ack_after_commit.py).
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

from collector.broker.topics import command_topic, ingest_filter
from collector.config import Broker, DecoderMode, Ingest
from collector.ingest.decode import Decoded, Message, decode_messages
from collector.ingest.decoder_process import DecoderProcess
from collector.ingest.evaluator import Evaluator, Progress
from collector.ingest.stats import IngestStats
from collector.ledger_service import LedgerService
from collector.stills import UPLOAD_FILTER, StillRequestOut, cmd_topic
from drugtrace.resend import ResendRequest, encode_request

log = logging.getLogger(__name__)
STATUS_FILTER = "drugtrace/+/+/status"
STILL_SUFFIX = "/upload/still"
RESEND_CHECK_S = 10.0  # how often the writer looks for holes due to be asked for (collector.sequences)
_DECODE_CHUNK = 20  # messages decoded per hand-over to the writer


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


Delivered = tuple[list[Message], Decoded]  # a decoded chunk: its messages and what they hold


def take_batch(first: Delivered, decoded: queue.Queue[Delivered], batch_messages: int,
               interval_s: float) -> tuple[list[Message], Decoded]:
    """One transaction's messages: `first`, then what `decoded` holds or brings until there are
    `batch_messages`, or until `interval_s` after the first message ARRIVED (when it was taken, if
    not known). Counting from the arrival, a message that waited through the last commit is stored
    with what came meanwhile at once: counted from the take, a writer under paced load idled a
    whole interval before every transaction and fell behind (bench/ingest.py, alert latency)."""
    messages, merged = list(first[0]), Decoded()
    merged.extend(first[1])
    arrived = messages[0].arrived if messages and messages[0].arrived is not None else time.monotonic()
    deadline = arrived + interval_s
    while len(messages) < batch_messages:
        try:
            more = decoded.get_nowait()
        except queue.Empty:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                more = decoded.get(timeout=remaining)
            except queue.Empty:
                break
        messages.extend(more[0])
        merged.extend(more[1])
    return messages, merged


class Subscriber:
    """Runs the MQTT client and the ingest worker; `start()`, then `stop()`."""

    def __init__(self, service: LedgerService, broker: Broker, password: str, ingest: Ingest,
                 stats: IngestStats | None = None, clock: Callable[[], dt.datetime] = utcnow,
                 shared: bool = True, evaluator: Evaluator | None = None) -> None:
        self.service = service
        self.evaluator = evaluator  # judges in its own process; None: judged in the ingest transaction
        if evaluator is not None:
            evaluator.listeners.append(self._on_progress)
            evaluator.restart_listeners.append(lambda: self.stats.restarted("evaluator"))
        self.broker = broker
        self.ingest_settings = ingest
        self.stats = stats or IngestStats()
        self.clock = clock
        self.filter = ingest_filter(broker.shared_group if shared else "")
        group = broker.shared_group if shared else ""
        self.upload_filter = f"$share/{group}/{UPLOAD_FILTER}" if group else UPLOAD_FILTER
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.uploads: queue.Queue[Message] = queue.Queue()  # camera stills the collector asked for
        # decoded messages waiting for the writer; bounded so decoding cannot run far ahead of commits
        self.decoded: queue.Queue[Delivered] = queue.Queue(
            maxsize=max(4, 2 * ingest.batch_messages // _DECODE_CHUNK))
        self.resend_check_s = RESEND_CHECK_S
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._decoder: threading.Thread | None = None
        self.decoder_process: DecoderProcess | None = None  # with `[ingest] decoder = "process"`
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
        client.subscribe([(self.filter, 1), (STATUS_FILTER, 1), (self.upload_filter, 1)])

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
        message = Message(msg.topic, msg.payload, self.clock(), msg.mid, msg.qos, time.monotonic())
        (self.uploads if msg.topic.endswith(STILL_SUFFIX) else self.inbox).put(message)

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        decode = self._decode
        if self.ingest_settings.decoder is DecoderMode.PROCESS:
            self.decoder_process = DecoderProcess(self.service.county, self._deliver)
            self.decoder_process.restart_listeners.append(lambda: self.stats.restarted("decoder"))
            self.decoder_process.start()
            decode = self._feed
        self._decoder = threading.Thread(target=decode, name="ingest-decoder", daemon=True)
        self._decoder.start()
        self._worker = threading.Thread(target=self._work, name="ingest-worker", daemon=True)
        self._worker.start()
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()
        if self.decoder_process is not None:
            self.decoder_process.stop()  # what it has not delivered stays unacknowledged: delivered again
        for thread in (self._decoder, self._worker):
            if thread is not None:
                thread.join(30)
        self.client.disconnect()
        self.client.loop_stop()

    # -- the decoder ----------------------------------------------------------------------------------

    def _next_chunk(self) -> list[Message] | None:
        """Up to _DECODE_CHUNK messages from the inbox (None after 0.2 s without one)."""
        try:
            chunk = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            return None
        while len(chunk) < _DECODE_CHUNK:
            try:
                chunk.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return chunk

    def _decode(self) -> None:
        """The decoder thread (`[ingest] decoder = "thread"`)."""
        county = self.service.county
        while not self._stop.is_set():
            chunk = self._next_chunk()
            if chunk is not None:
                self._deliver(chunk, decode_messages(chunk, county))  # pure and never raises: bad input is quarantined

    def _feed(self) -> None:
        """Hands the inbox to the decoder process (`[ingest] decoder = "process"`), which delivers to `_deliver`."""
        assert self.decoder_process is not None
        while not self._stop.is_set():
            chunk = self._next_chunk()
            if chunk is not None:
                self.decoder_process.feed(chunk)

    def _deliver(self, chunk: list[Message], decoded: Decoded) -> None:
        """Queue decoded messages for the writer (waits while the queue is full, until stopping)."""
        while not self._stop.is_set():
            try:
                self.decoded.put((chunk, decoded), timeout=0.2)
                return
            except queue.Full:
                continue

    # -- the writer -----------------------------------------------------------------------------------

    def _work(self) -> None:
        period = self.ingest_settings.periodic_rules_s
        next_periodic = time.monotonic() + period
        next_resend_check = time.monotonic() + self.resend_check_s
        evaluator = self.evaluator
        store = self.service.ingest_decoded if evaluator is None else self.service.store_decoded
        while not self._stop.is_set():
            if time.monotonic() >= next_resend_check:
                self._ask_for_resends()
                next_resend_check = time.monotonic() + self.resend_check_s
            if evaluator is None and time.monotonic() >= next_periodic:  # else the evaluator runs them
                self._run(lambda: self.service.periodic(self.clock()))
                # bounded per call: with work left, run again after the next batch, not a period later
                more = getattr(self.service, "periodic_backlog", False)
                next_periodic = time.monotonic() + (0 if more else period)
            self._take_uploads()
            try:
                first = self.decoded.get(timeout=0.2)
            except queue.Empty:
                continue
            batch, decoded = take_batch(first, self.decoded, self.ingest_settings.batch_messages,
                                        self.ingest_settings.commit_interval_ms / 1000)
            while not self._stop.is_set():
                now = self.clock()
                outcome = self._run(lambda: store(decoded, now))
                if outcome is not None:
                    break
                time.sleep(1.0)  # the database refused: keep the batch (unacknowledged) and retry
            else:
                return  # stopping with an uncommitted batch: the broker will deliver it again
            for message in batch:
                if message.qos > 0:
                    self.client.ack(message.mid, message.qos)
            if evaluator is not None and outcome.new:
                evaluator.committed()
            self.stats.record(len(batch), outcome.new, outcome.duplicates, outcome.quarantined, outcome.statuses,
                              outcome.alerts, now, outcome.upto)
            self._ask_for_stills(outcome.still_requests)

    def _on_progress(self, progress: Progress) -> None:
        """A round the evaluator committed (its reader thread): count its alerts, ask for the stills they cite."""
        self.stats.evaluated(progress.alerts)
        self._ask_for_stills(progress.still_requests)

    def _ask_for_stills(self, requests: list[StillRequestOut]) -> None:
        for request in requests:  # after the commit: the alert citing the still exists
            self.client.publish(cmd_topic(self.service.county, request.store), request.payload(), qos=1)

    def _ask_for_resends(self) -> None:
        """Ask stores for the events missing from their sequence numbers (collector.sequences)."""
        due = self._run(lambda: self.service.resend_requests(self.clock(), self.ingest_settings.resend_policy()))
        for store, (first, last) in due or ():  # type: ignore[union-attr]
            log.warning("asking store %s to resend seq %d-%d", store, first, last)
            self.client.publish(command_topic(self.service.county, store, "resend"),
                                encode_request(ResendRequest(from_seq=first, to_seq=last)), qos=1)

    def _take_uploads(self) -> None:
        """Keep (or quarantine) the stills stores uploaded, then acknowledge them."""
        while True:
            try:
                message = self.uploads.get_nowait()
            except queue.Empty:
                return
            while self._run(lambda: self.service.accept_still(message)) is None and not self._stop.is_set():
                time.sleep(1.0)  # disk or database refused: retry, unacknowledged
            if message.qos > 0:
                self.client.ack(message.mid, message.qos)

    def _run(self, job: Callable[[], object]) -> object | None:
        try:
            return job()
        except Exception:  # never let one bad batch kill ingest; counted and logged, then retried
            self.stats.failed()
            log.exception("ingest transaction failed; will retry")
            return None
