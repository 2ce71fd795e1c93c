"""Turn received MQTT messages into rows to store: accepted events, quarantine records, statuses.

Pure: no I/O; the collector clock arrives as `received_at`. Nothing is dropped: every payload
ends up as events, a quarantine record naming the reason, or a store status.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat

import msgspec

from collector.broker.topics import parse_topic
from collector.store.base import NewEvent, QuarantineRecord, StatusRecord, stamp
from drugtrace.events import AnyEvent, Receipt, Settlement
from drugtrace.wire import decode_batch, encode_event


@dataclass(frozen=True)
class Message:
    """One MQTT message as the subscriber received it."""

    topic: str
    payload: bytes
    received_at: dt.datetime
    mid: int = 0
    qos: int = 1
    arrived: float | None = None  # time.monotonic() when it arrived; None: not known (counts from when it is taken)


class StoreState(enum.Enum):
    ONLINE = "online"
    OFFLINE = "offline"


class Status(msgspec.Struct, frozen=True):
    """The retained status a store (or its last will) publishes."""

    state: StoreState
    at: dt.datetime | None = None


_status_decoder = msgspec.json.Decoder(Status)


@dataclass
class Decoded:
    events: list[NewEvent] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    statuses: list[StatusRecord] = field(default_factory=list)
    messages: int = 0  # how many messages these came from

    def extend(self, other: Decoded) -> None:
        self.events.extend(other.events)
        self.quarantine.extend(other.quarantine)
        self.statuses.extend(other.statuses)
        self.messages += other.messages


_TAGS: dict[type, str] = {}


def _tag(kind: type) -> str:
    tag = _TAGS.get(kind)
    if tag is None:
        tag = _TAGS[kind] = kind.__struct_config__.tag  # type: ignore[attr-defined]
    return tag


def to_row(event: AnyEvent, received_at: str, body: bytes | None = None) -> NewEvent:
    """The columns the store keeps for an accepted event; `body` is the event's bytes as received
    (encoded again only when not given)."""
    code = getattr(event, "code", None)
    return NewEvent(
        event.store, event.id, _tag(type(event)), code.key if code is not None else None,
        event.person if isinstance(event, Settlement) else None,
        event.doc, event.seq, stamp(event.at), received_at, encode_event(event) if body is None else body,
        tuple(event.contains) if isinstance(event, Receipt) and event.contains else (), event,
    )


def decode_messages(messages: Sequence[Message], county: str) -> Decoded:
    """Sort every message into accepted events, quarantine or status (see module docstring)."""
    out = Decoded(messages=len(messages))
    for message in messages:
        received = stamp(message.received_at)
        parts = parse_topic(message.topic)

        def quarantine(reason: str, raw: bytes = message.payload) -> None:
            out.quarantine.append(QuarantineRecord(message.topic, parts.store if parts else None, reason, raw, received))

        if parts is None or parts.kind not in ("events", "status"):
            quarantine(f"Expected a topic drugtrace/{{county}}/{{store}}/events|status, got {message.topic!r}.")
            continue
        if parts.county != county:
            quarantine(f"Expected county {county!r} in the topic, got {parts.county!r}.")
            continue
        if parts.kind == "status":
            if not message.payload:
                continue  # a cleared retained message: nothing to record
            try:
                status = _status_decoder.decode(message.payload)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                quarantine(f"Invalid status: {exc}")
                continue
            at = stamp(status.at) if status.at is not None and status.at.tzinfo else received
            out.statuses.append(StatusRecord(parts.store, status.state.value, at, received))
            continue
        batch = decode_batch(message.payload)
        if batch.store is not None and batch.store != parts.store:
            quarantine(f"Expected batch store {parts.store!r} (from the topic), got {batch.store!r}.")
            continue
        strangers = sorted({e.store for e in batch.events if e.store != parts.store})
        if strangers:
            quarantine(f"Expected every event's store to be {parts.store!r} (from the topic), got {strangers!r}.")
            continue
        for failure in batch.failures:
            quarantine(f"Invalid event: {failure.reason}", failure.raw)
        out.events.extend(map(to_row, batch.events, repeat(received), batch.raws))
    return out
