"""A real local webhook receiver (http.server on 127.0.0.1) whose behaviour a test scripts.

It deduplicates by idempotency key the way a careful receiver does, and counts: `accepted[key]`
(processed once), `duplicates[key]` (the same key again), `failed` (answered 500), `hung` (held
past the client's timeout; processed first, like a receiver that is slow to answer).
"""

from __future__ import annotations

import enum
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Mode(enum.Enum):
    OK = "ok"
    FAIL = "fail"  # HTTP 500
    HANG = "hang"  # process, then answer only when released (after the client gave up)


class Receiver:
    def __init__(self, hang_s: float = 10.0) -> None:
        self.mode = Mode.OK
        self.hang_s = hang_s
        self.accepted: Counter[str] = Counter()
        self.duplicates: Counter[str] = Counter()
        self.failed = 0
        self.hung = 0
        self.headers: list[dict[str, str]] = []
        self.release = threading.Event()
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.handle(self, body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def set_mode(self, mode: Mode) -> None:
        with self.changed:
            self.mode = mode
            if mode is not Mode.HANG:
                self.release.set()  # let hanging requests finish
            else:
                self.release.clear()

    def _accept(self, key: str) -> None:
        with self.changed:
            if key in self.accepted:
                self.duplicates[key] += 1
            else:
                self.accepted[key] += 1
            self.changed.notify_all()

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        mode = self.mode
        self.headers.append(dict(handler.headers))
        if mode is Mode.FAIL:
            with self.changed:
                self.failed += 1
                self.changed.notify_all()
            self._answer(handler, 500, b'{"error":"scripted failure"}')
            return
        key = json.loads(body)["idempotency_key"]
        self._accept(key)
        if mode is Mode.HANG:
            with self.changed:
                self.hung += 1
                self.changed.notify_all()
            self.release.wait(self.hang_s)
        self._answer(handler, 200, b'{"ok":true}')

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client gave up (timeout): nothing to answer to
            pass

    def wait_for(self, predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        """Wait until predicate(self) holds (re-checked on every request); False on timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)
