"""The cameras inside the agent: workers, camera evidence at each settlement, stills, health.

`agent/app.py` builds a `CameraService` from the `[[cameras]]` of the configuration and hands it
every settlement once it is durable (`settled`). That call only queues: the evidence is summarised
on this service's own thread once the window's end (settlement time + the profile's `after`) has
passed, from a snapshot of the ring, and committed through the outbox like any event. Neither a
scan nor a settlement answer ever waits for a frame, a summary or a JPEG write.

The queue is durable: the outbox keeps every settlement awaiting evidence (`camera_pending`,
written in the settlement's own transaction, removed in the evidence's), and `start` requeues what
a crash left there (`pending`). The ring does not survive the process, so such evidence says what
is true: the camera saw nothing while the agent was down, so a window that began before this start
is "offline" whatever the frames analysed since (no frames at all when the window closed before).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from agent.camera.errors import CameraError
from agent.camera.profile import CameraProfile, load_profile
from agent.camera.still import StillStore
from agent.camera.worker import CameraWorker
from agent.config import AgentConfig, CameraMode
from agent.errors import ConfigurationError, OutboxFull
from drugtrace import events
from drugtrace.ids import uuid7

__all__ = ["CameraSetup", "CameraService", "camera_setups", "DEFAULT_DIR"]

log = logging.getLogger("agent.camera")
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "firmware_configs" / "cameras"
RETRY_S = 5.0
PURGE_EVERY_S = 3600.0


class Committer(Protocol):
    def commit(self, document: Any, events: Sequence[events.AnyEvent]) -> list[events.AnyEvent]: ...


@dataclass(frozen=True)
class CameraSetup:
    """One configured camera: its resolved profile and whether it gives settlement evidence."""

    name: str
    profile: CameraProfile
    evidence: bool = True


def camera_setups(config: AgentConfig, directory: Path = DEFAULT_DIR) -> list[CameraSetup]:
    """Profiles loaded and overridden now, so a mistake surfaces at start (ConfigurationError)."""
    setups = []
    for camera in config.cameras:
        path = Path(camera.profile) if camera.profile.endswith(".toml") else directory / f"{camera.profile}.toml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in directory.glob("*.toml")))
            raise ConfigurationError(f"Expected a camera profile {camera.profile!r} for camera {camera.name!r} "
                                     f"(known: {known}), got no such file.")
        try:
            profile = load_profile(path)
        except CameraError as exc:
            raise ConfigurationError(f"camera {camera.name!r}: {exc}") from None
        if camera.source:
            uri: str | int = int(camera.source) if camera.source.isdigit() else camera.source
            profile = replace(profile, source=replace(profile.source, uri=uri))
        if camera.mode is not CameraMode.PROFILE:
            profile = replace(profile, analysis=replace(profile.analysis, mode=camera.mode.value))
        setups.append(CameraSetup(camera.name, replace(profile, name=camera.name), camera.evidence))
    return setups


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class CameraService:
    """Runs the cameras; queues and writes one `CameraEvidence` event per settlement."""

    def __init__(self, setups: Sequence[CameraSetup], outbox: Committer, *, store: str, stills: StillStore,
                 on_scan: Callable[[bytes, str], object] | None = None,
                 clock: Callable[[], dt.datetime] = _utc_now,
                 worker: Callable[..., CameraWorker] = CameraWorker,
                 pending: Callable[[], Sequence[events.Settlement]] | None = None) -> None:
        self.store = store
        self.stills = stills
        self._outbox = outbox
        self._pending = pending
        self._recovered: set[str] = set()  # setl_ids requeued at start, whose window the agent partly missed
        self._started_at: dt.datetime | None = None
        self._clock = clock
        self.workers: dict[str, CameraWorker] = {}
        for setup in setups:
            scan = None
            if on_scan is not None and setup.profile.scanner.as_scanner:
                source = f"camera:{setup.name}"
                scan = lambda code, source=source: on_scan(code.encode("utf-8"), source)  # noqa: E731
            self.workers[setup.name] = worker(setup.profile, on_scan=scan)
        chosen = [s.name for s in setups if s.evidence]
        self.evidence_camera: str | None = chosen[0] if chosen else None
        self._queue: list[tuple[dt.datetime, int, events.Settlement]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="camera-evidence", daemon=True)
        self.written = 0
        self.failures = 0

    # -- life cycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        for worker in self.workers.values():
            worker.start()
        self._started_at = self._clock()
        if self._pending is not None:
            left = list(self._pending())
            for settlement in left:
                self._recovered.add(settlement.setl_id)
                self.settled(settlement)
            if left:
                log.warning("camera evidence requeued after a restart settlements=%d", len(left))
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the cameras, then write the evidence still queued (its window cut at now)."""
        for worker in self.workers.values():
            worker.stop(timeout)
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout + 5)

    # -- settlements ------------------------------------------------------------------------------------

    def settled(self, settlement: events.Settlement) -> None:
        """Queue the evidence of a durable settlement; returns at once."""
        if self.evidence_camera is None:
            return
        window = self.workers[self.evidence_camera].profile.evidence
        with self._changed:
            heapq.heappush(self._queue, (settlement.at + window.after, next(self._order), settlement))
            self._changed.notify_all()

    @property
    def pending(self) -> int:
        with self._changed:
            return len(self._queue)

    def evidence_for(self, settlement: events.Settlement, now: dt.datetime | None = None) -> events.CameraEvidence:
        """The camera-evidence event of a settlement from the ring as it is now (the still kept at the store)."""
        assert self.evidence_camera is not None
        now = now or self._clock()
        summary = self.workers[self.evidence_camera].evidence(settlement.setl_id, settlement.at, now, self.stills)
        if (settlement.setl_id in self._recovered and self._started_at is not None
                and summary.window_start < self._started_at):
            summary = replace(summary, camera_health=events.Health.OFFLINE.value)  # the agent was down
        return events.CameraEvidence(
            id=uuid7(), store=self.store, doc=settlement.doc, seq=1, at=now, setl_id=settlement.setl_id,
            window_start=summary.window_start, window_end=summary.window_end,
            frames_analysed=summary.frames_analysed, frames_with_person=summary.frames_with_person,
            people_max=summary.people_max, codes_seen=[c[:120] for c in summary.codes_seen][:200],
            camera_health=events.Health(summary.camera_health), motion_mean=summary.motion_mean,
            still_image=summary.still_image)

    def _run(self) -> None:
        next_purge = 0.0
        while True:
            with self._changed:
                while not self._stopping and not self._due():
                    self._changed.wait(self._wait_s())
                stopping = self._stopping
                batch = [heapq.heappop(self._queue)[2] for _ in range(len(self._queue))] if stopping else []
                while not stopping and self._queue and self._queue[0][0] <= self._clock():
                    batch.append(heapq.heappop(self._queue)[2])
            for settlement in batch:
                self._write(settlement, requeue=not stopping)
            if stopping:
                return
            if self._clock().timestamp() >= next_purge:
                next_purge = self._clock().timestamp() + PURGE_EVERY_S
                self._purge()

    def _due(self) -> bool:
        return bool(self._queue) and self._queue[0][0] <= self._clock()

    def _wait_s(self) -> float:
        if not self._queue:
            return PURGE_EVERY_S
        return max(0.01, (self._queue[0][0] - self._clock()).total_seconds())

    def _write(self, settlement: events.Settlement, *, requeue: bool) -> None:
        try:
            self._outbox.commit(None, [self.evidence_for(settlement)])
            self._recovered.discard(settlement.setl_id)
            self.written += 1
        except Exception as exc:  # full outbox, disk error: keep the settlement queued, never drop it
            self.failures += 1
            level = logging.WARNING if isinstance(exc, (OutboxFull, CameraError)) else logging.ERROR
            log.log(level, "camera evidence not written setl_id=%r error=%r", settlement.setl_id, str(exc))
            if requeue:
                with self._changed:
                    due = self._clock() + dt.timedelta(seconds=RETRY_S)
                    heapq.heappush(self._queue, (due, next(self._order), settlement))

    def _purge(self) -> None:
        try:
            deleted = self.stills.purge(self._clock())
        except OSError as exc:
            log.warning("stills purge failed error=%r", str(exc))
            return
        if deleted:
            log.info("stills purged=%d", deleted)

    # -- health and stills ----------------------------------------------------------------------------

    def health(self) -> list[events.DeviceHealth]:
        """One entry per camera for the heartbeat."""
        out = []
        for name, worker in self.workers.items():
            detail = (worker.error or "")[:200]
            out.append(events.DeviceHealth(name=name, health=events.Health(worker.health().value), detail=detail))
        return out

