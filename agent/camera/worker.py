"""The camera worker: reads, analyses at a fixed rate, and fills the ring — off the caller's path.

In ``process`` mode (the default) the source and the analysis run in a child process, so decoding
never competes with the counter's scan and settlement answers for the interpreter lock; a
parent-side thread moves each analysis into the ring. ``thread`` mode runs the same loop on a
thread (tests, or a machine where a second process is unwelcome). Callers only ever read the
ring: taking a snapshot or summarising evidence never waits for a frame.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agent.camera.dedupe import CodeDebouncer
from agent.camera.evidence import CameraEvidence, pick_still, summarise
from agent.camera.health import Health
from agent.camera.profile import CameraProfile
from agent.camera.ring import FrameAnalysis, Ring
from agent.camera.still import StillStore

__all__ = ["CameraWorker", "run_loop"]


class _Flag(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = ...) -> bool: ...


@dataclass(frozen=True)
class _End:
    """Sent by the loop when it stops; ``error`` is set when it stopped on an exception."""

    error: str | None = None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def run_loop(profile: CameraProfile, emit: Callable[[FrameAnalysis], None], stop: _Flag,
             clock: Callable[[], dt.datetime] = _utc_now, capture: Callable[[Any], Any] | None = None) -> None:
    """Analyse frames at ``profile.analysis.rate`` until ``stop`` is set or a non-looping file ends."""
    from agent.camera.analyse import Analyser
    from agent.camera.source import CameraSource

    source = CameraSource(profile.source, clock=clock, capture=capture)
    analyser = Analyser(profile)
    period = 1.0 / profile.analysis.rate
    due = time.monotonic()
    try:
        while not stop.is_set():
            frame = source.read()
            emit(analyser.analyse(frame) if frame is not None else analyser.offline(source.now()))
            if source.ended:
                break
            due += period
            delay = due - time.monotonic()
            if delay > 0:
                stop.wait(delay)
            else:
                due = time.monotonic()
    finally:
        source.close()


def _child(profile: CameraProfile, out: Any, stop: Any) -> None:
    """Process entry point: one OpenCV thread, analyses sent to the parent."""
    import cv2

    cv2.setNumThreads(1)
    try:
        run_loop(profile, out.put, stop)
    except Exception as exc:  # reported to the parent, which owns logging and status
        out.put(_End(f"{type(exc).__name__}: {exc}"))
    else:
        out.put(_End())


class CameraWorker:
    """Runs one camera's analysis in the background and keeps its ring."""

    def __init__(self, profile: CameraProfile, *, mode: str | None = None,
                 on_scan: Callable[[str], None] | None = None,
                 clock: Callable[[], dt.datetime] = _utc_now,
                 capture: Callable[[Any], Any] | None = None) -> None:
        self.profile = profile
        self.mode = mode or profile.analysis.mode
        if self.mode not in ("process", "thread"):
            raise ValueError(f"Expected mode 'process' or 'thread', got {self.mode!r}")
        if capture is not None and self.mode == "process":
            raise ValueError("Expected thread mode with a custom capture factory, got process mode")
        self.ring = Ring(profile.analysis.ring_capacity)
        self.finished = threading.Event()
        self.error: str | None = None
        self._clock = clock
        self._capture = capture
        self._on_scan = on_scan if profile.scanner.as_scanner else None
        self._debouncer = CodeDebouncer(profile.scanner.debounce)
        self._threads: list[threading.Thread] = []
        self._stop_thread = threading.Event()
        self._process: Any = None
        self._stop_process: Any = None

    @property
    def pid(self) -> int | None:
        """The child process id in process mode, once started."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start analysing; returns at once."""
        if self._threads:
            raise RuntimeError("Expected a worker that was not started, got one already running")
        if self.mode == "thread":
            runner = threading.Thread(target=self._run_thread, name=f"camera-{self.profile.name}", daemon=True)
        else:
            ctx = mp.get_context("spawn")
            self._stop_process = ctx.Event()
            out = ctx.Queue(maxsize=256)
            self._process = ctx.Process(target=_child, args=(self.profile, out, self._stop_process),
                                        name=f"camera-{self.profile.name}", daemon=True)
            self._process.start()
            runner = threading.Thread(target=self._drain, args=(out,), name=f"camera-drain-{self.profile.name}",
                                      daemon=True)
        self._threads.append(runner)
        runner.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to stop and wait up to ``timeout`` seconds for it."""
        self._stop_thread.set()
        if self._stop_process is not None:
            self._stop_process.set()
        for runner in self._threads:
            runner.join(timeout)
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout)
        self.finished.set()

    def health(self) -> Health:
        """Latest camera health for the heartbeat; OFFLINE before the first analysis."""
        latest = self.ring.latest()
        return latest.health if latest is not None else Health.OFFLINE

    def evidence(self, setl_id: str, settled_at: dt.datetime, now: dt.datetime | None = None,
                 stills: StillStore | None = None) -> CameraEvidence:
        """Summarise the ring around a settlement; keeps the best still in ``stills`` when given.

        Writing the still is file I/O: call this from the task that emits the evidence event once
        the window has closed (``after`` past the settlement), never from the settlement answer.
        """
        now = now or self._clock()
        snapshot = self.ring.snapshot()
        window = self.profile.evidence
        digest = None
        if stills is not None:
            best = pick_still(snapshot, settled_at, now, window)
            if best is not None and best.still is not None:
                digest = stills.keep(best.still)
        return summarise(snapshot, setl_id, settled_at, now, window, digest)

    def _deliver(self, analysis: FrameAnalysis) -> None:
        self.ring.append(analysis)
        if self._on_scan is not None:
            for code in self._debouncer.feed(analysis.codes, analysis.at.timestamp()):
                self._on_scan(code)

    def _run_thread(self) -> None:
        try:
            run_loop(self.profile, self._deliver, self._stop_thread, self._clock, self._capture)
        except Exception as exc:  # kept for status; the ring simply stops growing
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished.set()

    def _drain(self, out: Any) -> None:
        try:
            while True:
                try:
                    item = out.get(timeout=0.25)
                except queue.Empty:
                    if self._process is not None and not self._process.is_alive():
                        self.error = self.error or f"camera process exited with code {self._process.exitcode}"
                        return
                    continue
                if isinstance(item, _End):
                    self.error = item.error
                    return
                self._deliver(item)
        finally:
            self.finished.set()
