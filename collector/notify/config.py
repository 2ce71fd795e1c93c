"""[notify]: where alerts are pushed, for which severities and counties (docs/notifications.md)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from msgspec import Meta, Struct

from collector.rules.model import Severity

Seconds = Annotated[float, Meta(gt=0)]
EndpointName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class EndpointKind(enum.Enum):
    WEBHOOK = "webhook"  # generic JSON POST (optionally HMAC-signed with `secret`)
    WECOM = "wecom"  # 企业微信 group robot (url = https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...)
    DINGTALK = "dingtalk"  # 钉钉 custom robot (url = https://oapi.dingtalk.com/robot/send?access_token=...)


class MessageFormat(enum.Enum):
    MARKDOWN = "markdown"
    TEXT = "text"


class Endpoint(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[[notify.endpoints]]: one receiver of notifications."""

    name: EndpointName  # unique; deliveries are tracked per name, so keep it when changing the url
    kind: EndpointKind
    url: Annotated[str, Meta(pattern=r"^https?://")]
    # webhook: HMAC-SHA256 key for the X-DrugTrace-Signature header; dingtalk: the robot's 加签 secret (SEC...)
    secret: str = ""
    min_severity: Severity = Severity.HIGH  # alerts below this severity are not sent here
    counties: tuple[str, ...] = ()  # only these counties (empty: all)
    digest: bool = True  # also send the daily digest
    format: MessageFormat = MessageFormat.MARKDOWN  # robots only
    timeout_s: Seconds = 5.0  # connect and read timeout of one attempt


class Notify(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[notify]: the endpoints and how the sender retries."""

    endpoints: tuple[Endpoint, ...] = ()
    digest_time: Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "08:00"  # county local time
    poll_s: Seconds = 1.0  # how often new notifications are looked for
    retry_initial_s: Seconds = 2.0  # first retry delay; doubles per failure, with jitter ...
    retry_max_s: Seconds = 300.0  # ... up to this
    dashboard_url: str = ""  # e.g. https://collector.county.example: messages then link to the alert

    @property
    def digest_at(self) -> dt.time:
        hours, minutes = self.digest_time.split(":")
        return dt.time(int(hours), int(minutes))
