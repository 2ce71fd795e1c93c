"""One delivery attempt over HTTP (requests), and the retry delay after failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from collector.notify.config import Endpoint, EndpointKind
from collector.notify.messages import render


@dataclass(frozen=True)
class Attempt:
    ok: bool
    detail: str  # "" on success; what went wrong otherwise (status, robot errcode, timeout)


def retry_delay(failures: int, initial_s: float, max_s: float, random01: float) -> float:
    """Seconds to wait after `failures` consecutive failures (≥ 1): exponential, capped, with jitter in
    [half, whole] of the step so that many collectors do not retry in step.

    >>> [retry_delay(n, 2.0, 300.0, 1.0) for n in (1, 2, 3, 9, 10)]
    [2.0, 4.0, 8.0, 300.0, 300.0]
    >>> retry_delay(3, 2.0, 300.0, 0.0)
    4.0
    """
    step = min(max_s, initial_s * 2.0 ** min(failures - 1, 60))
    return step / 2 + step / 2 * random01


def attempt(session: requests.Session, endpoint: Endpoint, payload: dict[str, Any], timestamp_ms: int) -> Attempt:
    """POST the notification; success only on a 2xx answer (and, for robots, errcode 0 in its body)."""
    request = render(endpoint, payload, timestamp_ms)
    try:
        response = session.post(request.url, data=request.body, headers=request.headers,
                                timeout=(endpoint.timeout_s, endpoint.timeout_s), allow_redirects=False)
    except requests.RequestException as exc:
        return Attempt(False, f"{type(exc).__name__}: {exc}"[:300])
    if not 200 <= response.status_code < 300:
        return Attempt(False, f"HTTP {response.status_code}: {response.text[:200]!r}")
    if endpoint.kind in (EndpointKind.WECOM, EndpointKind.DINGTALK):
        try:
            answer = response.json()
        except ValueError:
            return Attempt(False, f"expected a JSON answer with errcode, got {response.text[:200]!r}")
        if not isinstance(answer, dict) or answer.get("errcode") != 0:
            return Attempt(False, f"robot refused: {response.text[:200]!r}")
    return Attempt(True, "")
