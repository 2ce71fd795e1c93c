"""`MqttUplink`: drains the outbox to the broker (paho-mqtt 2, MQTT 5, QoS 1, persistent session).

One thread owns the paho client and runs its network loop itself (`client.loop`), so callbacks
run in that thread, only record what happened, and no lock is shared with paho. Per connection:
publish the retained "online" status, then keep up to `max_inflight_batches` batches in flight
(each bounded by count and bytes, in seq order) and move the outbox's acknowledged watermark only
on PUBACK, in order (InflightWindow). When the connection drops, everything unacknowledged is
resent from the outbox after reconnecting (the collector is idempotent by event id); paho's own
in-memory queue is never relied on (PITFALLS). The counter never waits for any of this.

Commands: for each name in `commands` the uplink subscribes to `cmd/{name}` (QoS 1, kept in the
persistent session while the store is offline); the callback only records the message. The uplink
thread keeps it in the outbox's inbox (idempotent by name and payload hash) and only then
acknowledges it to the broker (manual ack), runs the handler and publishes its answer, if any, on
`upload/{name}` (QoS 1); the inbox entry is removed on that answer's PUBACK (or at once when there
is no answer). What a dropped connection or a restart left in the inbox is answered again on the
next connection, so a command acknowledged to the broker is never lost.

Resend: the uplink always subscribes to `cmd/resend` (drugtrace.resend). A request is kept in the
inbox like any command; the uplink then publishes the acknowledged events of that range it still
keeps again on the events topic, one batch in flight at a time beside the normal traffic, and
removes the request once the last batch is acknowledged (a dropped connection starts it over).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.config import AgentConfig, MqttProtocol
from agent.outbox import SqliteOutbox
from agent.uplink.window import InflightWindow, take_batch
from drugtrace.errors import SchemaError
from drugtrace.resend import decode_request
from drugtrace.wire import encode_batch

log = logging.getLogger("agent.uplink")
SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps the store's session (its command subscriptions) a week
LOOP_TIMEOUT_S = 0.05
RESEND = "resend"  # the built-in command: publish acknowledged events again


class LinkState(enum.Enum):
    OFFLINE = "offline"
    ONLINE = "online"


def status_payload(state: LinkState, at: dt.datetime) -> bytes:
    """The retained status message: {"state": "online"|"offline", "at": ISO time}."""
    return json.dumps({"state": state.value, "at": at.isoformat()}).encode()


@dataclass
class UplinkHealth:
    """What the uplink thread reports (read by heartbeats and `status`); written by that thread only."""

    connected: bool = False
    last_error: str = ""
    connects: int = 0
    batches_acked: int = 0
    events_acked: int = 0
    events_resent: int = 0  # published again at the collector's request (acknowledged)


@dataclass
class _Resend:
    """The resend request being served on this connection."""

    command_id: int
    next_seq: int
    last_seq: int
    inflight: int | None = None  # MQTT mid of the batch in flight
    inflight_last: int = 0
    inflight_count: int = 0


class _Session:
    """What the callbacks of one connection record, for the uplink thread to act on."""

    def __init__(self) -> None:
        self.connack: mqtt.ReasonCode | None = None
        self.disconnected: str | None = None
        self.acks: list[tuple[int, mqtt.ReasonCode]] = []
        self.commands: list[tuple[str, bytes, int, int]] = []  # topic, payload, mid, qos
        self.answers: dict[int, int] = {}  # MQTT mid of an answer -> its inbox entry
        self.tried: set[int] = set()  # inbox entries handled on this connection
        self.inbox_dirty = True  # look at the inbox (at connect, and after a command was kept)
        self.resend: _Resend | None = None


class MqttUplink:
    """The uplink thread. `start()`, `stop()`; `wake()` after a commit to publish without delay."""

    def __init__(self, config: AgentConfig, outbox: SqliteOutbox, *, now: Callable[[], dt.datetime] | None = None,
                 commands: Mapping[str, Callable[[bytes], bytes | None]] | None = None):
        self.config = config
        self.commands = dict(commands or {})
        self.commands_handled = 0
        self.outbox = outbox
        self.health = UplinkHealth()
        self._now = now or (lambda: dt.datetime.now().astimezone())
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._acked = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="uplink", daemon=True)
        self.events_topic = config.topic("events")
        self.status_topic = config.topic("status")

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def wait_acked(self, seq: int, timeout: float) -> bool:
        """Block until the broker acknowledged every event up to `seq` (for shutdown and tests)."""
        with self._acked:
            return self._acked.wait_for(lambda: self.outbox.stats().acked_seq >= seq, timeout)

    # -- the client ----------------------------------------------------------------------------------

    def _new_client(self, session: _Session) -> mqtt.Client:
        cfg = self.config.mqtt
        if cfg.protocol is MqttProtocol.V5:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.mqtt_client_id,
                                 protocol=mqtt.MQTTv5, manual_ack=True)
        else:  # 3.1.1: the persistent session is clean_session=False
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.mqtt_client_id,
                                 protocol=mqtt.MQTTv311, clean_session=False, manual_ack=True)
        client.username_pw_set(self.config.mqtt_username, cfg.password or None)
        if cfg.tls.enabled:
            client.tls_set(ca_certs=cfg.tls.ca, certfile=cfg.tls.cert or None, keyfile=cfg.tls.key or None,
                           cert_reqs=ssl.CERT_REQUIRED)
            client.tls_insecure_set(cfg.tls.insecure)
        client.will_set(self.status_topic, status_payload(LinkState.OFFLINE, self._now()), qos=1, retain=True)
        client.max_inflight_messages_set(cfg.max_inflight_batches + 2)

        def on_connect(_c, _u, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
            session.connack = reason_code

        def on_disconnect(_c, _u, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
            session.disconnected = str(reason_code)

        def on_publish(_c, _u, mid, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
            session.acks.append((mid, reason_code))

        def on_message(_c, _u, message) -> None:  # type: ignore[no-untyped-def]
            session.commands.append((message.topic, bytes(message.payload), message.mid, message.qos))

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_publish = on_publish
        client.on_message = on_message
        return client

    def _run(self) -> None:
        delay = self.config.mqtt.reconnect_min_s
        while not self._stop.is_set():
            try:
                clean = self._connection()
            except Exception as exc:  # never let the uplink thread die: log, back off, retry
                log.exception("uplink error=%r", str(exc))
                self.health.last_error = str(exc)
                clean = False
            self.health.connected = False
            if self._stop.is_set():
                break
            delay = self.config.mqtt.reconnect_min_s if clean else min(delay * 2, self.config.mqtt.reconnect_max_s)
            self._stop.wait(delay * random.uniform(0.8, 1.2))

    def _connection(self) -> bool:
        """One connection's life; True if it worked (resets the backoff), False to back off further."""
        cfg = self.config.mqtt
        session = _Session()
        client = self._new_client(session)
        try:
            if cfg.protocol is MqttProtocol.V5:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = SESSION_EXPIRY_S
                client.connect(cfg.host, cfg.port, cfg.keepalive, clean_start=False, properties=props)
            else:
                client.connect(cfg.host, cfg.port, cfg.keepalive)
        except (OSError, ssl.SSLError) as exc:
            self._note_error(f"cannot reach broker {cfg.host}:{cfg.port}: {exc}")
            return False
        try:
            deadline = time.monotonic() + max(5.0, cfg.keepalive)
            while session.connack is None and session.disconnected is None and time.monotonic() < deadline:
                if client.loop(LOOP_TIMEOUT_S) != mqtt.MQTT_ERR_SUCCESS:
                    break
            if session.connack is None or session.connack.is_failure:
                reason = session.connack or session.disconnected or "no CONNACK"
                self._note_error(f"broker {cfg.host}:{cfg.port} refused the connection: {reason}")
                return False
            self.health.connected = True
            self.health.connects += 1
            log.info("uplink state=online broker=%s:%s", cfg.host, cfg.port)
            client.publish(self.status_topic, status_payload(LinkState.ONLINE, self._now()), qos=1, retain=True)
            client.subscribe([(self.config.topic(f"cmd/{name}"), 1) for name in sorted({*self.commands, RESEND})])
            return self._pump(client, session)
        finally:
            self._close(client, session)

    def _pump(self, client: mqtt.Client, session: _Session) -> bool:
        """Publish and settle until stopped or disconnected; False when the broker refused a batch."""
        cfg = self.config
        window = InflightWindow()
        while not self._stop.is_set():
            if len(window) < cfg.mqtt.max_inflight_batches and not self._publish_next(client, window):
                return True
            rc = client.loop(LOOP_TIMEOUT_S if len(window) else 0.01)
            if not self._settle(session, window):
                return False
            if session.commands:
                self._keep(client, session)
            if session.inbox_dirty:
                self._answer(client, session)
            if session.resend is not None and session.resend.inflight is None:
                self._resend_next(client, session)
            if rc != mqtt.MQTT_ERR_SUCCESS or session.disconnected:
                self._note_error(f"connection lost: {session.disconnected or mqtt.error_string(rc)}")
                return True
            if not len(window) and not self._wake.is_set():
                self._wake.wait(LOOP_TIMEOUT_S)
            self._wake.clear()
        return True

    def _publish_next(self, client: mqtt.Client, window: InflightWindow) -> bool:
        """Publish batches until the window is full or the outbox has nothing more; False if paho refused."""
        cfg = self.config
        while len(window) < cfg.mqtt.max_inflight_batches:
            pending = self.outbox.pending(cfg.outbox.batch_size, after_seq=window.last_seq)
            if not pending:
                return True
            batch = take_batch(pending, cfg.outbox.batch_size, cfg.mqtt.max_batch_bytes)
            info = client.publish(self.events_topic, encode_batch(cfg.store_id, [p.body for p in batch]), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self._note_error(f"publish refused by the client: {mqtt.error_string(info.rc)}")
                return False
            window.add(info.mid, batch[0].seq, batch[-1].seq)
        return True

    def _settle(self, session: _Session, window: InflightWindow) -> bool:
        """Apply recorded PUBACKs in order; False when the broker refused a batch (reconnect, resend later)."""
        acks, session.acks = session.acks, []
        for mid, reason in acks:
            resend = session.resend
            if resend is not None and mid == resend.inflight:
                if reason.is_failure:
                    self._note_error(f"broker refused a resent batch on {self.events_topic}: {reason}")
                    return False  # the request stays in the inbox: served again on the next connection
                resend.next_seq, resend.inflight = resend.inflight_last + 1, None
                self.health.events_resent += resend.inflight_count
                continue
            if mid in session.answers:
                command_id = session.answers.pop(mid)
                if reason.is_failure:  # kept in the inbox: answered again on the next connection
                    self._note_error(f"broker refused a command answer: {reason}")
                else:
                    self._done(session, command_id)
                continue
            if reason.is_failure:
                # Not authorised or over quota: the events stay in the outbox; retry after a backoff.
                self._note_error(f"broker refused a batch on {self.events_topic}: {reason}")
                return False
            first_seq = window.first_seq
            watermark = window.ack(mid)
            if watermark is not None:
                self.outbox.mark_sent(watermark)
                self.health.batches_acked += 1
                self.health.events_acked += watermark - (first_seq or watermark) + 1
                with self._acked:
                    self._acked.notify_all()
        return True

    def _keep(self, client: mqtt.Client, session: _Session) -> None:
        """Keep each received command in the inbox, then acknowledge it to the broker."""
        received, session.commands = session.commands, []
        for topic, payload, mid, qos in received:
            name = topic.rsplit("/", 1)[-1]
            if name in self.commands or name == RESEND:
                self.outbox.record_command(name, payload)  # raises on a disk error: not acked, redelivered
                session.inbox_dirty = True
            else:
                log.warning("command %s ignored: no handler", name)
            if qos > 0:
                client.ack(mid, qos)

    def _answer(self, client: mqtt.Client, session: _Session) -> None:
        """Run the handler of each kept command not yet tried on this connection; publish its answer."""
        session.inbox_dirty = False
        for command in self.outbox.commands():
            if command.id in session.tried:
                continue
            if command.name == RESEND:
                if session.resend is None:
                    session.tried.add(command.id)
                    self._start_resend(command.id, command.payload, session)
                continue  # one at a time: the next is taken when this one is done
            session.tried.add(command.id)
            handler = self.commands.get(command.name)
            if handler is None:
                log.warning("kept command %s dropped: no handler any more", command.name)
                self._done(session, command.id)
                continue
            try:
                answer = handler(command.payload)
            except Exception as exc:  # a bad command must not take the uplink down; retried next connection
                log.exception("command %s failed error=%r", command.name, str(exc))
                continue
            self.commands_handled += 1
            if answer is None:  # refused (the handler logged why): nothing to send
                self._done(session, command.id)
                continue
            info = client.publish(self.config.topic(f"upload/{command.name}"), answer, qos=1)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                session.answers[info.mid] = command.id

    def _done(self, session: _Session, command_id: int) -> None:
        """Forget a command; its inbox id may be given to the next command kept, which is then new."""
        self.outbox.command_done(command_id)
        session.tried.discard(command_id)

    def _start_resend(self, command_id: int, payload: bytes, session: _Session) -> None:
        try:
            request = decode_request(payload)
        except SchemaError as exc:  # kept nowhere else: the reason is logged, the request dropped
            log.warning("resend request refused: %s", exc)
            self._done(session, command_id)
            return
        log.info("resending seq %d-%d at the collector's request", request.from_seq, request.to_seq)
        session.resend = _Resend(command_id, request.from_seq, request.to_seq)

    def _resend_next(self, client: mqtt.Client, session: _Session) -> None:
        """Publish the next batch of the resend under way, or finish it when nothing is left."""
        resend = session.resend
        assert resend is not None
        cfg = self.config
        kept = self.outbox.sent_between(resend.next_seq, resend.last_seq, cfg.outbox.batch_size)
        if not kept:
            self._done(session, resend.command_id)
            session.resend = None
            session.inbox_dirty = True  # another request may be waiting
            return
        batch = take_batch(kept, cfg.outbox.batch_size, cfg.mqtt.max_batch_bytes)
        info = client.publish(self.events_topic, encode_batch(cfg.store_id, [p.body for p in batch]), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._note_error(f"publish refused by the client: {mqtt.error_string(info.rc)}")
            return
        resend.inflight, resend.inflight_last, resend.inflight_count = info.mid, batch[-1].seq, len(batch)

    def _close(self, client: mqtt.Client, session: _Session) -> None:
        if session.connack is not None and not session.connack.is_failure and not session.disconnected:
            if self._stop.is_set():  # clean shutdown: say offline ourselves (the will is not sent)
                info = client.publish(self.status_topic, status_payload(LinkState.OFFLINE, self._now()),
                                      qos=1, retain=True)
                deadline = time.monotonic() + 2.0
                while not info.is_published() and time.monotonic() < deadline:
                    if client.loop(LOOP_TIMEOUT_S) != mqtt.MQTT_ERR_SUCCESS:
                        break
            client.disconnect()
            client.loop(LOOP_TIMEOUT_S)
        sock = client.socket()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        if self.health.connected:
            log.info("uplink state=offline reason=%r", self.health.last_error or "stopped")

    def _note_error(self, message: str) -> None:
        if message != self.health.last_error:
            log.warning("uplink error=%r", message)
        self.health.last_error = message
