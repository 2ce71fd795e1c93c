"""The still-image exchange (issue 7): the collector asks a store for one settlement's still, the
store answers with the JPEG. Both programs use these structs, so the wire shape lives here.

- Request on `drugtrace/{county}/{store}/cmd/still`: `StillRequest` (setl_id, the still's sha256
  from the camera-evidence event).
- Answer on `drugtrace/{county}/{store}/upload/still`: `StillUpload` (the JPEG, at most
  `MAX_STILL_BYTES`; `sha256` of the bytes sent, `original_sha256` of the still the evidence names —
  they differ when the store re-encoded a large still smaller).

Decoding never trusts the sender: `check_upload` recomputes the hash and checks size and JPEG magic.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

import msgspec
from msgspec import Meta

from drugtrace.errors import SchemaError

MAX_STILL_BYTES = 256 * 1024
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
SetlId = Annotated[str, Meta(min_length=1, max_length=64)]


class StillRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    setl_id: SetlId
    sha256: Sha256


class StillUpload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    v: int = 1
    store: Annotated[str, Meta(min_length=1, max_length=64)]
    setl_id: SetlId
    sha256: Sha256
    original_sha256: Sha256
    jpeg: Annotated[bytes, Meta(max_length=MAX_STILL_BYTES)]


_encoder = msgspec.json.Encoder()
_request_decoder = msgspec.json.Decoder(StillRequest)
_upload_decoder = msgspec.json.Decoder(StillUpload)


def encode(message: StillRequest | StillUpload) -> bytes:
    return _encoder.encode(message)


def decode_request(payload: bytes) -> StillRequest:
    """Raise SchemaError naming the field when the payload is not a valid request."""
    try:
        return _request_decoder.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise SchemaError(f"Expected a still request {{setl_id, sha256}}, got: {exc}") from None


def decode_upload(payload: bytes) -> StillUpload:
    """Decode and verify an upload; raise SchemaError saying what was wrong."""
    if len(payload) > MAX_STILL_BYTES * 4 // 3 + 1024:
        raise SchemaError(f"Expected a still upload of at most {MAX_STILL_BYTES} JPEG bytes, got a "
                          f"{len(payload)}-byte message")
    try:
        upload = _upload_decoder.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise SchemaError(f"Invalid still upload: {exc}") from None
    check_upload(upload)
    return upload


def check_upload(upload: StillUpload) -> None:
    """The JPEG must start FF D8 and hash to the claimed sha256."""
    if not upload.jpeg.startswith(b"\xff\xd8"):
        raise SchemaError(f"Expected JPEG bytes starting FF D8, got {upload.jpeg[:2].hex() or 'nothing'}")
    actual = hashlib.sha256(upload.jpeg).hexdigest()
    if actual != upload.sha256:
        raise SchemaError(f"Expected the JPEG to hash to {upload.sha256}, got {actual}")
