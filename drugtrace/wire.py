"""Encoding and strict decoding of events and batches (JSON on the wire).

Decoding never raises on bad input: it returns `DecodeFailure` values naming the field
(msgspec's path, e.g. ``$.code.key``) so the collector can quarantine them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import msgspec

from drugtrace.events import SCHEMA_VERSION, AnyEvent, Batch, Event

_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(AnyEvent)
_batch_decoder = msgspec.json.Decoder(Batch)


@dataclass(frozen=True)
class DecodeFailure:
    """Why a payload (or one event of a batch) was rejected, with the raw bytes kept."""

    reason: str
    raw: bytes
    index: int | None = None  # position in the batch, None for the whole payload


@dataclass(frozen=True)
class DecodedBatch:
    store: str | None
    events: list[AnyEvent]
    failures: list[DecodeFailure]
    raws: list[bytes] = field(default_factory=list)  # each accepted event's bytes as received, as `events`


def content_hash(event: Event) -> str:
    """SHA-256 (hex, 32 chars) of the event encoded with an empty `hash` field."""
    body = _encoder.encode(msgspec.structs.replace(event, hash=""))
    return hashlib.sha256(body).hexdigest()[:32]


def seal(event: Event) -> Event:
    """Return the event with its content hash filled in."""
    return msgspec.structs.replace(event, hash=content_hash(event))


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def encode_batch(store: str, events: list[AnyEvent] | list[bytes]) -> bytes:
    """Encode events (structs, or already-encoded event bytes from an outbox) as one batch."""
    raws = [msgspec.Raw(e) if isinstance(e, (bytes, bytearray)) else msgspec.Raw(_encoder.encode(e)) for e in events]
    return _encoder.encode(Batch(store=store, events=raws))


def _hash_covers_raw(event: Event, raw: bytes) -> bool:
    """True when the claimed hash is that of the bytes as received with the hash blanked: the
    canonical encoding every sender here produces, checked without decoding-then-re-encoding."""
    claimed = event.hash
    if not claimed:
        return False
    blank = raw.replace(b'"hash":"' + claimed.encode() + b'"', b'"hash":""', 1)
    return len(blank) != len(raw) and hashlib.sha256(blank).hexdigest()[:32] == claimed


def _check(event: AnyEvent, raw: bytes, index: int | None, verify_hash: bool) -> DecodeFailure | None:
    if event.v != SCHEMA_VERSION:
        return DecodeFailure(f"Expected schema version {SCHEMA_VERSION}, got {event.v} - at `$.v`", raw, index)
    if verify_hash and not _hash_covers_raw(event, raw) and event.hash != content_hash(event):
        return DecodeFailure(f"Expected content hash {content_hash(event)}, got {event.hash!r} - at `$.hash`", raw, index)
    return None


def decode_event(data: bytes, *, verify_hash: bool = True) -> AnyEvent | DecodeFailure:
    """Decode and validate one event; a failure is returned, never raised."""
    try:
        event = _event_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return DecodeFailure(str(exc), bytes(data))
    return _check(event, bytes(data), None, verify_hash) or event


def decode_batch(data: bytes, *, verify_hash: bool = True) -> DecodedBatch:
    """Decode a batch; each bad event becomes a failure while the good ones are kept."""
    try:
        batch = _batch_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return DecodedBatch(None, [], [DecodeFailure(str(exc), bytes(data))])
    if batch.v != SCHEMA_VERSION:
        reason = f"Expected batch schema version {SCHEMA_VERSION}, got {batch.v} - at `$.v`"
        return DecodedBatch(batch.store, [], [DecodeFailure(reason, bytes(data))])
    events: list[AnyEvent] = []
    raws: list[bytes] = []
    failures: list[DecodeFailure] = []
    for index, raw in enumerate(batch.events):
        body = bytes(raw)
        try:
            event = _event_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            failures.append(DecodeFailure(f"{exc} (event {index})", body, index))
            continue
        problem = _check(event, body, index, verify_hash)
        if problem is not None:
            failures.append(problem)
        else:
            events.append(event)
            raws.append(body)
    return DecodedBatch(batch.store, events, failures, raws)
