"""Payloads against the documented formats: generic webhook, WeCom group robot, DingTalk robot (signed)."""

from __future__ import annotations

import doctest
import hashlib
import hmac
import json
import urllib.parse

import pytest

from collector.notify import messages, sender
from collector.notify.config import Endpoint, EndpointKind, MessageFormat
from collector.notify.messages import alert_payload, digest_payload, dingtalk_sign, fit, render

ALERT = {"id": 12, "rule": "sold_at_two_stores", "severity": "critical", "status": "new", "subject": "8" * 20,
         "code": "8" * 20, "stores": ["S1", "S2"], "detail": "sold at S1 and again at S2", "evidence_count": 3,
         "first_seen": "2026-11-23T01:00:00.000000+00:00", "last_seen": "2026-11-23T01:00:00.000000+00:00",
         "follows": None}
PAYLOAD = alert_payload("drugtrace-ab12-7", "new", "C1", "2026-11-23T01:00:00.000000+00:00", ALERT,
                        "https://collector.example")
DIGEST = digest_payload("drugtrace-ab12-8", "C1", "2026-11-23", "2026-11-23T00:00:00.000000+00:00",
                        [("sold_at_two_stores", "critical", 2), ("no_provenance", "medium", 5)], 4)
# 加签 vector computed outside Python: printf '1700000000000\nSECtest' | openssl dgst -sha256 -hmac SECtest -binary
# | base64  → aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=
DINGTALK_VECTOR = ("SECtest", 1700000000000, "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=")


def endpoint(kind: EndpointKind, **options: object) -> Endpoint:
    url = str(options.pop("url", "https://robot.example/send?key=k"))
    return Endpoint(name="e", kind=kind, url=url, **options)  # type: ignore[arg-type]


def test_doctests() -> None:
    assert doctest.testmod(sender).failed == 0


def test_generic_webhook_sends_the_document_with_its_key_and_a_verifiable_signature() -> None:
    request = render(endpoint(EndpointKind.WEBHOOK, secret="s3cret"), PAYLOAD, 1700000000000)
    document = json.loads(request.body)
    assert document == PAYLOAD and document["idempotency_key"] == request.headers["Idempotency-Key"]
    assert document["alert"]["link"] == "https://collector.example/alerts/12"
    expected = hmac.new(b"s3cret", b"1700000000000." + request.body, "sha256").hexdigest()
    assert request.headers["X-DrugTrace-Signature"] == f"sha256={expected}"
    assert request.headers["X-DrugTrace-Timestamp"] == "1700000000000"
    assert "X-DrugTrace-Signature" not in render(endpoint(EndpointKind.WEBHOOK), PAYLOAD, 1).headers


@pytest.mark.parametrize("payload", [PAYLOAD, DIGEST], ids=["alert", "digest"])
def test_wecom_markdown_and_text_follow_the_group_robot_format(payload: dict) -> None:  # type: ignore[type-arg]
    markdown = json.loads(render(endpoint(EndpointKind.WECOM), payload, 1).body)
    assert set(markdown) == {"msgtype", "markdown"} and markdown["msgtype"] == "markdown"
    assert set(markdown["markdown"]) == {"content"}
    content = markdown["markdown"]["content"]
    assert content.startswith("## ") and len(content.encode()) <= 4096 and payload["idempotency_key"] in content
    text = json.loads(render(endpoint(EndpointKind.WECOM, format=MessageFormat.TEXT), payload, 1).body)
    assert set(text) == {"msgtype", "text"} and text["msgtype"] == "text" and set(text["text"]) == {"content"}
    assert len(text["text"]["content"].encode()) <= 2048 and "**" not in text["text"]["content"]


def test_wecom_alert_markdown_names_severity_rule_stores_and_code_in_both_languages() -> None:
    content = json.loads(render(endpoint(EndpointKind.WECOM), PAYLOAD, 1).body)["markdown"]["content"]
    first = content.splitlines()[0]
    assert first == '## <font color="warning">【严重 critical】回流药嫌疑 / sold at two stores</font>'
    assert "**门店 stores**: S1, S2" in content and f"**追溯码 code**: {'8' * 20}" in content
    assert "[查看 open](https://collector.example/alerts/12)" in content


def test_dingtalk_markdown_and_text_follow_the_robot_format() -> None:
    markdown = json.loads(render(endpoint(EndpointKind.DINGTALK), PAYLOAD, 1).body)
    assert set(markdown) == {"msgtype", "markdown", "at"} and markdown["msgtype"] == "markdown"
    assert set(markdown["markdown"]) == {"title", "text"} and markdown["markdown"]["title"]
    assert markdown["at"] == {"atMobiles": [], "isAtAll": False}
    text = json.loads(render(endpoint(EndpointKind.DINGTALK, format=MessageFormat.TEXT), DIGEST, 1).body)
    assert text["msgtype"] == "text" and "每日告警汇总 daily digest" in text["text"]["content"]
    assert "未结告警 open: 7 · 24小时新增 new in 24 h: 4" in text["text"]["content"]


def test_dingtalk_signature_matches_an_independently_computed_vector() -> None:
    secret, timestamp, b64 = DINGTALK_VECTOR
    assert dingtalk_sign(secret, timestamp) == urllib.parse.quote(b64, safe="")
    request = render(endpoint(EndpointKind.DINGTALK, url="https://oapi.dingtalk.com/robot/send?access_token=T",
                              secret=secret), PAYLOAD, timestamp)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)
    assert query == {"access_token": ["T"], "timestamp": [str(timestamp)], "sign": [b64]}


def test_unsigned_dingtalk_url_is_left_alone() -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=T"
    assert render(endpoint(EndpointKind.DINGTALK, url=url), PAYLOAD, 5).url == url


def test_fit_cuts_on_character_boundaries() -> None:
    text = "告警" * 3000
    cut = fit(text, 4096)
    assert len(cut.encode()) <= 4096 and cut.endswith("…") and cut[:-1] == text[:len(cut) - 1]
    assert fit("short", 10) == "short"


def test_signature_is_the_hmac_of_timestamp_newline_secret() -> None:  # the documented recipe, spelled out
    digest = hmac.new(b"SECabc", b"42\nSECabc", hashlib.sha256).digest()
    import base64

    assert urllib.parse.unquote_plus(messages.dingtalk_sign("SECabc", 42)) == base64.b64encode(digest).decode()
