"""The resend request's wire shape: what the collector sends and what the agent accepts."""

from __future__ import annotations

import pytest

from drugtrace.errors import SchemaError
from drugtrace.resend import MAX_RESEND_EVENTS, ResendRequest, decode_request, encode_request


def test_a_request_survives_the_wire() -> None:
    request = ResendRequest(from_seq=3, to_seq=17)
    assert encode_request(request) == b'{"from_seq":3,"to_seq":17}'
    assert decode_request(encode_request(request)) == request


@pytest.mark.parametrize(("payload", "says"), [
    (b'{"from_seq": 0, "to_seq": 5}', "Expected a resend request"),
    (b'{"from_seq": 9, "to_seq": 5}', "Expected from_seq <= to_seq, got 9 > 5."),
    (b'{"from_seq": 1}', "Expected a resend request"),
    (b'{"from_seq": 1, "to_seq": 2, "all": true}', "Expected a resend request"),
    (b"not json", "Expected a resend request"),
    (f'{{"from_seq": 1, "to_seq": {MAX_RESEND_EVENTS + 1}}}'.encode(), f"Expected at most {MAX_RESEND_EVENTS} events"),
])
def test_a_bad_request_is_refused_saying_what_was_expected(payload: bytes, says: str) -> None:
    with pytest.raises(SchemaError) as raised:
        decode_request(payload)
    assert says in str(raised.value)
