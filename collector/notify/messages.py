"""What a notification says, and the HTTP request each endpoint kind expects (pure).

A notification is one JSON document (`alert_payload`, `digest_payload`) fixed when it is routed, so
every retry sends the same content with the same `idempotency_key`. `render` turns it into the
request for an endpoint: the document itself (generic webhook), a WeCom group-robot message, or a
DingTalk robot message (signed when the endpoint has a secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from collector.notify.config import Endpoint, EndpointKind, MessageFormat
from collector.rules.model import Rule

MAX_ROBOT_BYTES = 4096  # WeCom: markdown content ≤ 4096 bytes (text ≤ 2048); DingTalk is similar
MAX_TEXT_BYTES = 2048
SEVERITY_ZH = {"low": "低", "medium": "中", "high": "高", "critical": "严重"}
KIND_ZH = {"new": "新告警 new alert", "escalated": "告警升级 escalated", "reopened": "告警重开 reopened",
           "digest": "每日汇总 daily digest"}
_COLOUR = {"critical": "warning", "high": "warning", "medium": "comment", "low": "comment"}  # WeCom's named colours


@dataclass(frozen=True)
class HttpRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def rule_title(rule: str) -> str:
    try:
        return Rule(rule).title
    except ValueError:
        return rule


def alert_payload(key: str, kind: str, county: str, created_at: str, alert: dict[str, Any],
                  dashboard_url: str = "") -> dict[str, Any]:
    """The generic JSON document of an alert notification; `alert` holds the alert's columns and
    `evidence_count`."""
    link = f"{dashboard_url.rstrip('/')}/alerts/{alert['id']}" if dashboard_url else ""
    return {
        "idempotency_key": key, "kind": kind, "county": county, "created_at": created_at,
        "alert": {
            "id": alert["id"], "rule": alert["rule"], "title": rule_title(alert["rule"]),
            "severity": alert["severity"], "status": alert["status"], "subject": alert["subject"],
            "code": alert["code"], "stores": list(alert["stores"]), "detail": alert["detail"],
            "evidence_count": alert["evidence_count"], "first_seen": alert["first_seen"],
            "last_seen": alert["last_seen"], "follows": alert.get("follows"), "link": link,
        },
    }


def digest_payload(key: str, county: str, day: str, created_at: str, open_by_rule: list[tuple[str, str, int]],
                   new_last_day: int) -> dict[str, Any]:
    """The daily digest: open alerts by (rule, severity) and how many alerts were raised in the last 24 h."""
    return {
        "idempotency_key": key, "kind": "digest", "county": county, "created_at": created_at, "day": day,
        "open_total": sum(count for _, _, count in open_by_rule), "new_last_24h": new_last_day,
        "open": [{"rule": rule, "title": rule_title(rule), "severity": severity, "count": count}
                 for rule, severity, count in open_by_rule],
    }


# -- people's text ---------------------------------------------------------------------------------

def _alert_lines(payload: dict[str, Any], markdown: bool) -> tuple[str, list[str]]:
    alert = payload["alert"]
    severity = alert["severity"]
    title = f"【{SEVERITY_ZH.get(severity, severity)} {severity}】{alert['title']}"
    bold = (lambda s: f"**{s}**") if markdown else (lambda s: s)
    lines = [f"{KIND_ZH.get(payload['kind'], payload['kind'])} #{alert['id']} · 县 county {payload['county']}",
             f"{bold('门店 stores')}: {', '.join(alert['stores']) or '-'}"]
    if alert["code"]:
        lines.append(f"{bold('追溯码 code')}: {alert['code']}")
    else:
        lines.append(f"{bold('对象 subject')}: {alert['subject']}")
    lines += [f"{bold('证据 evidence')}: {alert['evidence_count']} events",
              f"{bold('说明 detail')}: {alert['detail']}",
              f"{bold('时间 at')}: {payload['created_at']}"]
    if alert.get("follows"):
        lines.append(f"{bold('跟进 follows')}: #{alert['follows']} (confirmed)")
    if alert["link"]:
        lines.append(f"[查看 open]({alert['link']})" if markdown else alert["link"])
    lines.append(f"ref {payload['idempotency_key']}")
    return title, lines


def _digest_lines(payload: dict[str, Any], markdown: bool) -> tuple[str, list[str]]:
    title = f"每日告警汇总 daily digest · {payload['county']} · {payload['day']}"
    lines = [f"未结告警 open: {payload['open_total']} · 24小时新增 new in 24 h: {payload['new_last_24h']}"]
    for row in payload["open"]:
        severity = row["severity"]
        lines.append(f"- {row['title']} · {SEVERITY_ZH.get(severity, severity)} {severity}: {row['count']}")
    if not payload["open"]:
        lines.append("- 无未结告警 no open alerts")
    lines.append(f"ref {payload['idempotency_key']}")
    return title, lines


def text_of(payload: dict[str, Any], markdown: bool) -> tuple[str, str]:
    """(title, body) for people; markdown uses headings, bold labels and links."""
    title, lines = (_digest_lines if payload["kind"] == "digest" else _alert_lines)(payload, markdown)
    if not markdown:
        return title, "\n".join([title, *lines])
    return title, "\n".join([f"## {title}", *[f"> {line}" if i == 0 else line for i, line in enumerate(lines)]])


def fit(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` of UTF-8 (never inside a character), marked with … when cut."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes - len("…".encode())].decode("utf-8", errors="ignore") + "…"


# -- requests per endpoint kind ----------------------------------------------------------------------

def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, then URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def wecom_message(payload: dict[str, Any], form: MessageFormat) -> dict[str, Any]:
    title, body = text_of(payload, form is MessageFormat.MARKDOWN)
    if form is MessageFormat.MARKDOWN:
        severity = payload.get("alert", {}).get("severity")
        if severity in _COLOUR:  # colour the heading's severity mark
            body = body.replace(f"## {title}", f'## <font color="{_COLOUR[severity]}">{title}</font>', 1)
        return {"msgtype": "markdown", "markdown": {"content": fit(body, MAX_ROBOT_BYTES)}}
    return {"msgtype": "text", "text": {"content": fit(body, MAX_TEXT_BYTES)}}


def dingtalk_message(payload: dict[str, Any], form: MessageFormat) -> dict[str, Any]:
    title, body = text_of(payload, form is MessageFormat.MARKDOWN)
    if form is MessageFormat.MARKDOWN:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": fit(body, MAX_ROBOT_BYTES)},
                "at": {"atMobiles": [], "isAtAll": False}}
    return {"msgtype": "text", "text": {"content": fit(body, MAX_TEXT_BYTES)},
            "at": {"atMobiles": [], "isAtAll": False}}


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(endpoint: Endpoint, payload: dict[str, Any], timestamp_ms: int) -> HttpRequest:
    """The request that delivers `payload` to `endpoint` (`timestamp_ms`: now, for signatures)."""
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": payload["idempotency_key"]}
    if endpoint.kind is EndpointKind.WECOM:
        return HttpRequest(endpoint.url, headers, _json(wecom_message(payload, endpoint.format)))
    if endpoint.kind is EndpointKind.DINGTALK:
        url = endpoint.url
        if endpoint.secret:
            joiner = "&" if urllib.parse.urlsplit(url).query else "?"
            url = f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(endpoint.secret, timestamp_ms)}"
        return HttpRequest(url, headers, _json(dingtalk_message(payload, endpoint.format)))
    body = _json(payload)
    if endpoint.secret:
        signed = f"{timestamp_ms}.".encode() + body
        mac = hmac.new(endpoint.secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
        headers |= {"X-DrugTrace-Timestamp": str(timestamp_ms), "X-DrugTrace-Signature": f"sha256={mac}"}
    return HttpRequest(endpoint.url, headers, body)
