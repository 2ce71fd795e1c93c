"""The still request/upload wire shapes: round trips and every refusal named."""

from __future__ import annotations

import base64
import hashlib

import pytest

from drugtrace.errors import SchemaError
from drugtrace.stills import MAX_STILL_BYTES, StillRequest, StillUpload, decode_request, decode_upload, encode

JPEG = b"\xff\xd8\xff\xe0" + b"pixels" * 100
SHA = hashlib.sha256(JPEG).hexdigest()


def _upload(jpeg: bytes = JPEG, sha: str = SHA) -> StillUpload:
    return StillUpload(store="S001", setl_id="SETL1", sha256=sha, original_sha256=SHA, jpeg=jpeg)


def test_round_trips() -> None:
    request = StillRequest(setl_id="SETL1", sha256=SHA)
    assert decode_request(encode(request)) == request
    assert decode_upload(encode(_upload())) == _upload()


@pytest.mark.parametrize("payload,message", [
    pytest.param(b"{}", "Expected a still request {setl_id, sha256}, got: Object missing required field `setl_id`",
                 id="empty"),
    pytest.param(b'{"setl_id": "X", "sha256": "abc"}',
                 "Expected a still request {setl_id, sha256}, got: Expected `str` matching regex '^[0-9a-f]{64}$' "
                 "- at `$.sha256`", id="short_hash"),
])
def test_bad_requests(payload: bytes, message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        decode_request(payload)
    assert str(caught.value) == message


def test_an_upload_whose_bytes_do_not_match_its_hash_is_refused() -> None:
    with pytest.raises(SchemaError, match=f"Expected the JPEG to hash to {'0' * 64}, got {SHA}"):
        decode_upload(encode(_upload(sha="0" * 64)))


def test_an_upload_that_is_not_a_jpeg_is_refused() -> None:
    body = b"GIF89a"
    with pytest.raises(SchemaError, match="Expected JPEG bytes starting FF D8, got 4749"):
        decode_upload(encode(_upload(body, hashlib.sha256(body).hexdigest())))


def _raw_upload(jpeg: bytes) -> bytes:
    return (b'{"store":"S001","setl_id":"X","sha256":"' + b"0" * 64 + b'","original_sha256":"' + b"0" * 64
            + b'","jpeg":"' + base64.b64encode(jpeg) + b'"}')


def test_an_oversized_upload_is_refused() -> None:
    with pytest.raises(SchemaError) as caught:
        decode_upload(_raw_upload(b"\xff\xd8" + b"x" * MAX_STILL_BYTES))
    assert str(caught.value) == "Invalid still upload: Expected `bytes` of length <= 262144 - at `$.jpeg`"
    with pytest.raises(SchemaError, match="Expected a still upload of at most 262144 JPEG bytes, got a 699"):
        decode_upload(_raw_upload(b"\xff\xd8" + b"x" * 2 * MAX_STILL_BYTES))  # refused before decoding
