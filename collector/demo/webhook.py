"""A local webhook receiver: the generic JSON notifier's endpoint in the demo, on 127.0.0.1.

It answers 200 to every well-formed POST, keeps what arrived (deduplicated by the payload's
`idempotency_key`, as a real receiver should) and hands each notification to `on_notification`
for printing. A payload that is not JSON is kept as text and answered 400.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1 << 20


class WebhookReceiver:
    def __init__(self, on_notification: Callable[[dict[str, Any]], None]) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.repeats = 0  # deliveries of an idempotency key already received
        self.rejected: list[str] = []
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self._on_notification = on_notification
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                body = self.rfile.read(length)
                status = receiver.receive(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return  # the demo prints notifications itself

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhook", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/drugtrace"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def receive(self, body: bytes) -> int:
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            with self._lock:
                self.rejected.append(f"{exc}: {body[:200]!r}")
            return 400
        key = str(payload.get("idempotency_key", ""))
        with self._lock:
            if key and key in self._keys:
                self.repeats += 1
                return 200
            self._keys.add(key)
            self.notifications.append(payload)
        self._on_notification(payload)
        return 200

    def count(self) -> int:
        with self._lock:
            return len(self.notifications)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def describe(payload: dict[str, Any]) -> str:
    """One line for a notification (the generic webhook's JSON document)."""
    alert = payload.get("alert")
    if not isinstance(alert, dict):
        return f"{payload.get('kind', 'notification')}: {json.dumps(payload, ensure_ascii=False)[:160]}"
    stores = ",".join(alert.get("stores") or [])
    return (f"{payload.get('kind', '?')} {alert.get('severity', '?')} {alert.get('rule', '?')} "
            f"{alert.get('subject', '')} [{stores}] {alert.get('title', '')}")
