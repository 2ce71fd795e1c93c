"""Stills at the collector: which to ask for, what an upload must be to be kept, and the topic rules
for cmd/still and upload/still on both brokers."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from collector.rules import Hit, Rule, Severity
from collector.stills import StillArchive, StillRefused, StillRequestOut, cmd_topic, requests_for
from drugtrace.events import CameraEvidence
from drugtrace.stills import StillRequest, StillUpload, decode_request, encode
from tests.collector.brokers import Client, secured_broker

T = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
JPEG = b"\xff\xd8\xff\xe0 a still"
SHA = hashlib.sha256(JPEG).hexdigest()


def _camera(id: str, store: str, setl: str, still: str | None) -> CameraEvidence:
    return CameraEvidence(id=id, store=store, doc="D1", seq=2, at=T, setl_id=setl, window_start=T, window_end=T,
                          frames_analysed=10, frames_with_person=0, people_max=0, still_image=still)


def _hit(rule: Rule, *evidence: str) -> Hit:
    return Hit(rule, Severity.HIGH, "settlement:S1:X", ("S1",), None, tuple(sorted(evidence)), "")


def test_stills_are_asked_for_the_camera_evidence_cited_by_camera_hits() -> None:
    cams = [_camera("ev1", "S1", "SETL1", SHA), _camera("ev2", "S1", "SETL2", "b" * 64),
            _camera("ev3", "S1", "SETL3", None), _camera("ev4", "S2", "SETL4", "c" * 64)]
    hits = [_hit(Rule.SWIPE_NOBODY, "st1", "ev1"), _hit(Rule.CAMERA_BLIND, "st3", "ev3"),
            _hit(Rule.CLUSTERED_SWIPES, "ev1", "ev2"),
            Hit(Rule.SOLD_TWICE_SAME_STORE, Severity.HIGH, "8123", ("S2",), "8123", ("ev4",), "")]
    assert requests_for(hits, cams) == [StillRequestOut("S1", "SETL1", SHA), StillRequestOut("S1", "SETL2", "b" * 64)]
    assert requests_for(hits, cams, have=lambda store, sha: sha == SHA) == [StillRequestOut("S1", "SETL2", "b" * 64)]
    request = decode_request(StillRequestOut("S1", "SETL1", SHA).payload())
    assert request == StillRequest(setl_id="SETL1", sha256=SHA)
    assert cmd_topic("C1", "S1") == "drugtrace/C1/S1/cmd/still"


def _upload(store: str = "S1", jpeg: bytes = JPEG, sha: str = SHA, original: str = SHA) -> bytes:
    return encode(StillUpload(store=store, setl_id="SETL1", sha256=sha, original_sha256=original, jpeg=jpeg))


def test_a_verified_upload_is_kept_under_the_name_the_evidence_gives(tmp_path: Path) -> None:
    archive = StillArchive(tmp_path / "stills")
    upload = archive.accept("drugtrace/C1/S1/upload/still", _upload(), "C1", known=lambda s, sha: (s, sha) == ("S1", SHA))
    assert upload.setl_id == "SETL1"
    assert (tmp_path / "stills" / "S1" / SHA).read_bytes() == JPEG and archive.has("S1", SHA)
    smaller = b"\xff\xd8 re-encoded"
    archive.accept("drugtrace/C1/S1/upload/still", _upload(jpeg=smaller, sha=hashlib.sha256(smaller).hexdigest()),
                   "C1", known=lambda s, sha: True)
    assert (tmp_path / "stills" / "S1" / SHA).read_bytes() == smaller  # kept under the evidence's name


@pytest.mark.parametrize("topic,payload,known,reason", [
    pytest.param("drugtrace/C1/S2/upload/still", _upload(), True,
                 "Expected a still of store 'S2' (from the topic), got 'S1'", id="another_stores_topic"),
    pytest.param("drugtrace/C9/S1/upload/still", _upload(), True,
                 "Expected a topic drugtrace/C1/{store}/upload/still, got 'drugtrace/C9/S1/upload/still'",
                 id="other_county"),
    pytest.param("drugtrace/C1/S1/upload/still", _upload(sha="0" * 64), True,
                 f"Expected the JPEG to hash to {'0' * 64}, got {SHA}", id="hash_mismatch"),
    pytest.param("drugtrace/C1/S1/upload/still", _upload(), False,
                 f"Expected a still named by a camera-evidence event of S1, got {SHA} for settlement 'SETL1'",
                 id="not_named_by_any_evidence"),
    pytest.param("drugtrace/C1/S1/upload/still", b"garbage", True,
                 "Invalid still upload: JSON is malformed: invalid character (byte 0)", id="not_json"),
])
def test_refused_uploads_say_why_and_keep_nothing(tmp_path: Path, topic: str, payload: bytes, known: bool,
                                                  reason: str) -> None:
    archive = StillArchive(tmp_path / "stills")
    with pytest.raises(StillRefused) as caught:
        archive.accept(topic, payload, "C1", known=lambda s, sha: known)
    assert str(caught.value) == reason
    assert not (tmp_path / "stills").exists() or not any((tmp_path / "stills").rglob("*"))


@pytest.mark.parametrize("kind", ["mosquitto", "amqtt"])
def test_still_topics_on_both_brokers(kind: str, tmp_path: Path) -> None:
    with secured_broker(kind, tmp_path) as broker:
        collector = Client(broker.port, "collector", broker.accounts["collector"].password, "collector-t")
        assert collector.subscribe("drugtrace/+/+/upload/still")
        s1 = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        assert s1.subscribe("drugtrace/C1/S1/cmd/still")
        collector.publish("drugtrace/C1/S2/cmd/still", b"for S2")
        collector.publish("drugtrace/C1/S1/cmd/still", b"for S1")
        assert s1.inbox.get(timeout=10) == ("drugtrace/C1/S1/cmd/still", b"for S1")
        s1.publish("drugtrace/C1/S2/upload/still", b"posing as S2")  # refused by the ACL
        s1.publish("drugtrace/C1/S1/upload/still", b"own")
        assert collector.inbox.get(timeout=10) == ("drugtrace/C1/S1/upload/still", b"own")
        assert s1.inbox.empty() and collector.inbox.empty()
        s1.close()
        collector.close()
