"""The notifier: a dispatcher thread that routes the outbox (and queues the daily digest), and one
sender thread per endpoint, so that a dead or slow endpoint delays only its own notifications.

Nothing here runs inside ingest: ingest only commits alert changes, and the outbox triggers add the
notifications in that same transaction. Each thread has its own SQLite connection and writes in
single short statements, never while waiting on the network.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from collector.notify import outbox
from collector.notify.config import Endpoint, Notify
from collector.notify.errors import NotifyError
from collector.notify.sender import attempt, retry_delay

log = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    # A delivery mark lost to a power cut means one resend, which the idempotency key makes harmless;
    # FULL would cost an fsync per notification.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


@dataclass
class EndpointStats:
    """Live counters of one endpoint's sender (read by metrics and tests)."""

    sent: int = 0
    failures: int = 0  # failed attempts (each is retried)
    consecutive: int = 0
    last_error: str = ""


class Notifier:
    def __init__(self, ledger_path: Path, county: str, settings: Notify, tz: dt.tzinfo, *,
                 clock: Callable[[], dt.datetime] = _utcnow, random01: Callable[[], float] = random.random,
                 session_factory: Callable[[], requests.Session] = requests.Session) -> None:
        names = [e.name for e in settings.endpoints]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise NotifyError(f"Expected unique [[notify.endpoints]] names, got {', '.join(doubles)} more than once.")
        self.path = ledger_path
        self.county = county
        self.settings = settings
        self.tz = tz
        self.clock = clock
        self.random01 = random01
        self.session_factory = session_factory
        self.stats = {e.name: EndpointStats() for e in settings.endpoints}
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._wake = {e.name: threading.Event() for e in settings.endpoints}
        self._threads: list[threading.Thread] = []
        self._digest_day: dt.date | None = None

    def start(self) -> None:
        from collector.alerts.recording import LifecycleLedger

        LifecycleLedger(self.path).close()  # the outbox tables exist before the threads look at them
        self._threads = [threading.Thread(target=self._dispatch, name="notify-dispatch", daemon=True)]
        self._threads += [threading.Thread(target=self._send, args=(e,), name=f"notify-{e.name}", daemon=True)
                          for e in self.settings.endpoints]
        for thread in self._threads:
            thread.start()

    def poke(self) -> None:
        """Look for new notifications now rather than at the next poll."""
        self._poke.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._poke.set()
        for event in self._wake.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout)

    def backlog(self) -> dict[str, int]:
        conn = _connect(self.path)
        try:
            return outbox.backlog(conn)
        finally:
            conn.close()

    # -- threads ------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        conn = _connect(self.path)
        try:
            while not self._stop.is_set():
                self._poke.clear()
                try:
                    now = self.clock()
                    self._maybe_digest(conn, now)
                    made = outbox.route(conn, self.settings.endpoints, self.county, now, self.settings.dashboard_url)
                except Exception:  # busy beyond the timeout, disk full, a bug: never let the thread die
                    log.exception("notify: routing failed, will retry")
                    made = None
                for name in made or ():
                    self._wake[name].set()
                if not made:
                    self._poke.wait(self.settings.poll_s)
        finally:
            conn.close()

    def _maybe_digest(self, conn: sqlite3.Connection, now: dt.datetime) -> None:
        local = now.astimezone(self.tz)
        if local.time() >= self.settings.digest_at and self._digest_day != local.date():
            outbox.queue_digest(conn, local.date(), now)
            self._digest_day = local.date()

    def _send(self, endpoint: Endpoint) -> None:
        conn = _connect(self.path)
        session = self.session_factory()
        stats, wake = self.stats[endpoint.name], self._wake[endpoint.name]
        try:
            while not self._stop.is_set():
                wake.clear()
                try:
                    batch = outbox.pending(conn, endpoint.name)
                    if not batch:
                        wake.wait(self.settings.poll_s)
                        continue
                    self._send_batch(conn, session, endpoint, stats, batch)
                except Exception:  # the outbox unavailable, or a bug: log, wait, go on
                    log.exception("notify %s: sending failed, will retry", endpoint.name)
                    self._stop.wait(max(self.settings.poll_s, self.settings.retry_initial_s))
        finally:
            session.close()
            conn.close()

    def _send_batch(self, conn: sqlite3.Connection, session: requests.Session, endpoint: Endpoint,
                    stats: EndpointStats, batch: list[outbox.Pending]) -> None:
        for item in batch:
            if self._stop.is_set():
                return
            now = self.clock()
            result = attempt(session, endpoint, item.payload, int(now.timestamp() * 1000))
            if result.ok:
                outbox.delivered(conn, endpoint.name, item.notification, self.clock())
                if stats.consecutive:
                    log.info("notify %s: delivering again after %d failed attempts", endpoint.name, stats.consecutive)
                stats.sent += 1
                stats.consecutive = 0
                continue
            outbox.failed(conn, endpoint.name, item.notification, now, result.detail)
            stats.failures += 1
            stats.consecutive += 1
            stats.last_error = result.detail
            if stats.consecutive == 1:
                log.warning("notify %s: delivery failed, retrying with backoff: %s", endpoint.name, result.detail)
            # the endpoint backs off as a whole and retries the oldest first, so order is kept
            self._stop.wait(retry_delay(stats.consecutive, self.settings.retry_initial_s, self.settings.retry_max_s,
                                        self.random01()))
            return
