"""The resend exchange: the collector asks a store to publish again the events it is missing.

The agent's outbox numbers a store's events 1, 2, 3, ... without gaps and marks them sent on the
broker's PUBACK. Should the broker lose messages after that acknowledgement (Mosquitto killed
between two autosaves), the collector sees a hole in the store's sequence numbers and publishes a
`ResendRequest` on `drugtrace/{county}/{store}/cmd/resend`; the agent publishes those events again
on its events topic, from its outbox, as long as it still keeps them. The collector stores events
idempotently by (store, id), so a resend of what already arrived changes nothing.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from drugtrace.errors import SchemaError

MAX_RESEND_EVENTS = 100_000  # one request's range; a longer hole is asked for in several
Seq = Annotated[int, Meta(ge=1)]


class ResendRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Publish the events with `from_seq <= seq <= to_seq` again."""

    from_seq: Seq
    to_seq: Seq


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ResendRequest)


def encode_request(request: ResendRequest) -> bytes:
    return _encoder.encode(request)


def decode_request(payload: bytes) -> ResendRequest:
    """Raise SchemaError saying what was expected when the payload is not a valid request."""
    try:
        request = _decoder.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise SchemaError(f"Expected a resend request {{from_seq, to_seq}} (integers from 1), got: {exc}") from None
    if request.to_seq < request.from_seq:
        raise SchemaError(f"Expected from_seq <= to_seq, got {request.from_seq} > {request.to_seq}.")
    if request.to_seq - request.from_seq >= MAX_RESEND_EVENTS:
        raise SchemaError(f"Expected at most {MAX_RESEND_EVENTS} events in one request, "
                          f"got {request.to_seq - request.from_seq + 1}.")
    return request
