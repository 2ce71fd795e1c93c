"""Child processes of the demo (collector, agents): output teed to a log file, readiness awaited
by reading that output, stopped with SIGINT (then SIGKILL only if they hang)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO


class Child:
    """One running program; `wait_for(text)` blocks until a line containing `text` was printed."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, cwd: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._lines: list[str] = []
        self._changed = threading.Condition()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        encoding="utf-8", errors="replace")
        self._log: TextIO = log_path.open("a", encoding="utf-8")
        self._reader = threading.Thread(target=self._read, name=f"{name}-output", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._log.write(line)
            self._log.flush()
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()
        self._log.close()

    def wait_for(self, text: str, timeout: float) -> bool:
        """True once a line with `text` appeared; False on timeout or when the process ended first."""
        with self._changed:
            return self._changed.wait_for(
                lambda: any(text in line for line in self._lines) or not self._reader.is_alive(), timeout) \
                and any(text in line for line in self._lines)

    def tail(self, count: int = 8) -> str:
        with self._changed:
            return "".join(self._lines[-count:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> int:
        """SIGINT (what Ctrl-C sends), wait; SIGKILL only if it did not stop in time. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._reader.join(5)
        return int(self.process.returncode)


def start_collector(config: Path, log_path: Path) -> Child:
    return Child("collector", ["-m", "collector.cli", "run", "--config", str(config)], log_path, config.parent)


def start_agent(store: str, config: Path, log_path: Path) -> Child:
    return Child(f"agent {store}", ["-m", "agent.cli", "run", "--config", str(config)], log_path, config.parent)


def run_tool(argv: Sequence[str], cwd: Path, stdin_text: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], cwd=cwd, input=stdin_text, capture_output=True, text=True,
                          timeout=120, check=False)
