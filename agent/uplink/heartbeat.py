"""Heartbeat events: written through the outbox at a fixed interval like any other event."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from agent.errors import OutboxFull
from agent.outbox import SqliteOutbox
from agent.ports import FillLevel
from drugtrace.events import DeviceHealth, Heartbeat
from drugtrace.ids import uuid7

log = logging.getLogger("agent.heartbeat")
HealthProvider = Callable[[], list[DeviceHealth]]


def make_heartbeat(*, store: str, at: dt.datetime, version: str, fill: FillLevel, last_upload: dt.datetime | None,
                   scanners: list[DeviceHealth], cameras: list[DeviceHealth]) -> Heartbeat:
    """The heartbeat for this moment (the outbox assigns seq and hash)."""
    return Heartbeat(id=uuid7(), store=store, seq=1, at=at, version=version,
                     outbox_depth=fill.depth, outbox_capacity=fill.capacity, last_upload=last_upload,
                     scanners=scanners, cameras=cameras)


class HeartbeatWriter:
    """A thread committing a heartbeat at start and then every `interval_s`."""

    def __init__(self, outbox: SqliteOutbox, *, store: str, version: str, interval_s: float,
                 scanners: HealthProvider, cameras: HealthProvider = list,
                 now: Callable[[], dt.datetime] | None = None, on_commit: Callable[[], None] = lambda: None) -> None:
        self.outbox = outbox
        self.store = store
        self.version = version
        self.interval_s = interval_s
        self.scanners = scanners
        self.cameras = cameras
        self.on_commit = on_commit
        self._now = now or (lambda: dt.datetime.now().astimezone())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def beat(self) -> Heartbeat | None:
        """Commit one heartbeat now; None when the outbox is full (the backlog already says it all)."""
        beat = make_heartbeat(store=self.store, at=self._now(), version=self.version, fill=self.outbox.fill_level(),
                              last_upload=self.outbox.stats().last_upload, scanners=self.scanners(),
                              cameras=self.cameras())
        try:
            [sealed] = self.outbox.commit(None, [beat])
        except OutboxFull:
            log.warning("heartbeat skipped reason=outbox_full")
            return None
        self.on_commit()
        return sealed  # type: ignore[return-value]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception as exc:  # a heartbeat must never take the agent down
                log.exception("heartbeat error=%r", str(exc))
            self._stop.wait(self.interval_s)
