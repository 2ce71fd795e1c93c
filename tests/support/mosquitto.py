"""Start a real Mosquitto broker (Debian package) on a free loopback port for a test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MosquittoBroker:
    """A mosquitto process with its own config file; `start`, `stop`, `kill` and `restart` keep the port.

    extra_config: lines appended to the generated config (password_file, acl_file, ...).
    """

    def __init__(self, workdir: Path, extra_config: Sequence[str] = (), port: int | None = None) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.extra_config = list(extra_config)
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    @property
    def config_path(self) -> Path:
        return self.workdir / "mosquitto.conf"

    def write_config(self) -> None:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "max_queued_messages 0",
            *self.extra_config,
        ]
        if not any(line.startswith(("allow_anonymous", "password_file", "plugin")) for line in self.extra_config):
            lines.append("allow_anonymous true")
        if os.geteuid() == 0 and not any(line.startswith("user ") for line in self.extra_config):
            # as root mosquitto drops to the `mosquitto` user, who cannot write its persistence file into
            # the test's private folder: sessions would be lost on restart
            lines.append("user root")
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 10.0) -> None:
        self.write_config()
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        ready = threading.Event()
        process = self.process

        def pump() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                self.log.append(line.rstrip())
                if " running" in line and "mosquitto version" in line:
                    ready.set()
            ready.set()  # process ended: unblock the waiter, which checks the return code

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout) or process.poll() is not None:
            raise RuntimeError("mosquitto did not start:\n" + "\n".join(self.log))

    def stop(self) -> None:
        """Graceful stop (SIGTERM): mosquitto saves its persistence file."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
