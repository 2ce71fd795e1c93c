"""The wire contract: round trips, strict validation with named fields, batches with bad members."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from hypothesis import given, strategies as st

from drugtrace.events import EVENT_TYPES, Code, CodeKind, Sale
from drugtrace.ids import uuid7
from drugtrace.wire import DecodeFailure, decode_batch, decode_event, encode_batch, encode_event, seal
from tests.support.event_strategies import any_event

AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def make_sale(**overrides: object) -> Sale:
    fields: dict[str, object] = dict(
        id=uuid7(), store="S001", doc="D1", seq=1, at=AT, line=1, product="XA01",
        code=Code(key="81234567890123456789", kind=CodeKind.NMPA, product_key="8123456"), price_fen=1250,
    )
    fields.update(overrides)
    return seal(Sale(**fields))  # type: ignore[arg-type]


@given(any_event)
def test_every_event_round_trips_unchanged(event: msgspec.Struct) -> None:
    assert decode_event(encode_event(event)) == event


@given(st.lists(any_event, max_size=5))
def test_batches_round_trip(events: list[msgspec.Struct]) -> None:
    decoded = decode_batch(encode_batch("S001", events))
    assert (decoded.events, decoded.failures) == (events, [])


@given(st.binary(max_size=200))
def test_decoding_garbage_never_raises(data: bytes) -> None:
    assert isinstance(decode_event(data), DecodeFailure)
    assert decode_batch(data).events == []


def test_all_event_kinds_are_covered() -> None:
    tags = {cls.__struct_config__.tag for cls in EVENT_TYPES}
    assert tags == {"receipt", "purchase_return", "stock_change", "stocktake", "sale", "settlement",
                    "sale_return", "override", "scan_refused", "heartbeat", "camera_evidence"}


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        pytest.param(lambda d: d.update(seq="1"), "Expected `int`, got `str` - at `$.seq`", id="wrong-type"),
        pytest.param(lambda d: d.update(seq=0), "Expected `int` >= 1 - at `$.seq`", id="out-of-range"),
        pytest.param(lambda d: d.pop("store"), "Object missing required field `store`", id="missing-field"),
        pytest.param(lambda d: d["code"].update(key=""), "Expected `str` of length >= 1 - at `$.code.key`",
                     id="nested-field"),
        pytest.param(lambda d: d.update(at="2026-11-23T09:30:00"), "Expected `datetime` with a timezone component",
                     id="naive-time"),
        pytest.param(lambda d: d.update(type="teleport"), "Invalid value 'teleport' - at `$.type`", id="unknown-type"),
        pytest.param(lambda d: d.update(extra=1), "Object contains unknown field `extra`", id="unknown-field"),
        pytest.param(lambda d: d.update(price_fen=1), "Expected content hash", id="tampered-content"),
        pytest.param(lambda d: d.update(v=2), "Expected schema version 1, got 2 - at `$.v`", id="future-version"),
    ],
)
def test_validation_errors_name_the_field(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    body = msgspec.json.decode(encode_event(make_sale()))
    mutate(body)
    result = decode_event(msgspec.json.encode(body))
    assert isinstance(result, DecodeFailure)
    assert reason in result.reason


def test_bad_event_in_batch_is_isolated_and_kept() -> None:
    good1, good2 = make_sale(seq=1), make_sale(seq=3)
    bad = msgspec.json.decode(encode_event(make_sale(seq=2)))
    bad["line"] = -5
    payload = encode_batch("S001", [encode_event(good1), msgspec.json.encode(bad), encode_event(good2)])
    decoded = decode_batch(payload)
    assert decoded.events == [good1, good2]
    assert [(f.index, "$.line" in f.reason) for f in decoded.failures] == [(1, True)]
    assert msgspec.json.decode(decoded.failures[0].raw)["line"] == -5


def test_hash_changes_with_content() -> None:
    same = uuid7()
    assert make_sale(id=same, price_fen=1).hash != make_sale(id=same, price_fen=2).hash
    assert make_sale(id=same, price_fen=1).hash == make_sale(id=same, price_fen=1).hash


def test_uuid7_ids_are_ordered_and_unique() -> None:
    ids = [uuid7() for _ in range(10_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(i[14] == "7" for i in ids[:10])


@given(st.lists(any_event, max_size=5))
def test_decoded_batch_keeps_each_accepted_events_bytes_as_received(events: list[msgspec.Struct]) -> None:
    payload = b'{"v":1,"store":"S001","events":[' + b", ".join(encode_event(e) for e in events) + b"]}"
    decoded = decode_batch(payload)
    assert decoded.raws == [encode_event(e) for e in events]
    assert [decode_event(raw) for raw in decoded.raws] == decoded.events == events


def test_hash_over_non_canonical_bytes_is_checked_on_the_content() -> None:
    sale = make_sale()
    spaced = encode_event(sale).replace(b'"store":', b'"store" :')  # valid JSON, not msgspec's encoding
    assert decode_event(spaced) == sale
    tampered = spaced.replace(b'"price_fen":1250', b'"price_fen":1')
    failure = decode_event(tampered)
    assert isinstance(failure, DecodeFailure) and "at `$.hash`" in failure.reason
