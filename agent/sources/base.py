"""What every scanner source shares: a reader thread that survives the device, and its health.

A source reads bytes from its device, cuts them into lines (LineFramer), normalises each line with
its profile's ScanOptions and hands it to `on_scan(raw, source_name)` (the counter's handle_scan).
Nothing a device sends can stop the thread: garbage and binary noise go on as scans (the counter
refuses them with a clear message), overlong lines are discarded and counted, a failing callback is
counted, an unplugged device is reopened and the gap counted. No log line per normal scan.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.sources.framing import LineFramer, Line, Overlong
from agent.sources.profiles import SourceSettings
from drugtrace.codes import normalise
from drugtrace.events import DeviceHealth, Health

log = logging.getLogger("agent.sources")
OnScan = Callable[[bytes, str], Any]
PROBLEM_LOG_INTERVAL_S = 10.0


@dataclass
class SourceCounters:
    lines: int = 0
    blank: int = 0
    non_text: int = 0
    overlong: int = 0
    partial_dropped: int = 0
    aim_missing: int = 0
    callback_errors: int = 0
    gaps: int = 0


def prepare(line: bytes, settings: SourceSettings) -> bytes:
    """Apply the profile's framing (strip, prefix/suffix, FNC1 substitutes -> GS) to an ASCII line.

    Non-ASCII lines are passed on unchanged: the counter refuses them naming the offending byte.
    """
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        return line
    return normalise(text, settings.options).encode("ascii")


class Source:
    """Base reader thread; subclasses implement `_open`, `_read` and `_close` for their device kind."""

    reopen_s = 0.5

    def __init__(self, settings: SourceSettings, on_scan: OnScan, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.name = settings.name
        self.on_scan = on_scan
        self.counters = SourceCounters()
        self.problems: deque[str] = deque(maxlen=20)  # recent problems, newest last (for `status`)
        self._clock = clock
        self._framer = LineFramer(settings.terminator, settings.max_line)
        self._stop = threading.Event()
        self._online = False
        self._offline_since: float | None = clock()
        self._last_error = "not opened yet"
        self._last_problem_log = 0.0
        self._thread = threading.Thread(target=self._run, name=f"source-{self.name}", daemon=True)
        self.opened = threading.Event()  # set while the device is open; for tests and start-up
        self.offline = threading.Event()  # set while it is not
        self.offline.set()

    # -- device specifics ---------------------------------------------------------------------------

    def _open(self) -> Any:
        raise NotImplementedError

    def _read(self, handle: Any) -> bytes:
        """Bytes available now (b"" after a short timeout); raise OSError when the device is gone."""
        raise NotImplementedError

    def _close(self, handle: Any) -> None:
        raise NotImplementedError

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def health(self) -> DeviceHealth:
        c = self.counters
        parts = [f"lines={c.lines}"]
        for label, value in (("non_text", c.non_text), ("overlong", c.overlong), ("partial", c.partial_dropped),
                             ("aim_missing", c.aim_missing), ("errors", c.callback_errors)):
            if value:
                parts.append(f"{label}={value}")
        if not self._online:
            since = dt.datetime.fromtimestamp(self._offline_since or self._clock()).astimezone()
            parts.append(f"offline since {since:%H:%M:%S}: {self._last_error}")
        return DeviceHealth(name=self.name, health=Health.OK if self._online else Health.OFFLINE,
                            detail=" ".join(parts)[:200], gaps=c.gaps)

    # -- the thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                handle = self._open()
            except Exception as exc:  # absent, unplugged, no permission: retry, never crash
                self._last_error = str(exc)[:120]
                self._stop.wait(self.reopen_s)
                continue
            self._online = True
            self._offline_since = None
            self.offline.clear()
            self.opened.set()
            log.info("scanner=%s state=open device=%s gaps=%d", self.name, self.settings.device, self.counters.gaps)
            try:
                self._pump(handle)
            finally:
                self._online = False
                self._offline_since = self._clock()
                try:
                    self._close(handle)
                except Exception:
                    pass
                dropped = self._framer.reset()
                if dropped:
                    self.counters.partial_dropped += 1
            self.opened.clear()
            self.offline.set()

    def _pump(self, handle: Any) -> None:
        while not self._stop.is_set():
            try:
                chunk = self._read(handle)
            except Exception as exc:  # the device went away (unplugged, EIO): reopen
                if self._stop.is_set():
                    return
                self.counters.gaps += 1
                self._last_error = str(exc)[:120] or type(exc).__name__
                self._problem(f"scanner {self.name} lost: {self._last_error}; reopening")
                return
            if chunk:
                for frame in self._framer.feed(chunk):
                    self._frame(frame)

    def _frame(self, frame: Line | Overlong) -> None:
        if isinstance(frame, Overlong):
            self.counters.overlong += 1
            self._problem(f"Expected a line of at most {self.settings.max_line} bytes from scanner {self.name}, "
                          f"got {frame.discarded} bytes before the terminator: discarded "
                          "(check the scanner's terminator setting)")
            return
        raw = frame.data
        if not raw.strip(b"\r\n"):
            self.counters.blank += 1
            return
        self.counters.lines += 1
        if not raw.isascii():
            self.counters.non_text += 1
        elif self.settings.aim_prefix and not raw.lstrip(b"\r\n").startswith(b"]"):
            self.counters.aim_missing += 1
        try:
            self.on_scan(prepare(raw, self.settings), self.name)
        except Exception as exc:  # the counter must not take the scanner thread down
            self.counters.callback_errors += 1
            self._problem(f"scan from {self.name} failed in the counter: {exc!r}")

    def _problem(self, message: str) -> None:
        self.problems.append(message)
        now = self._clock()
        if now - self._last_problem_log >= PROBLEM_LOG_INTERVAL_S:  # rate-limited: noise must not flood logs
            self._last_problem_log = now
            log.warning("scanner=%s problem=%r", self.name, message)
