"""SerialSource on real pseudo-terminals: normalised lines out, bad input survived, unplug/replug counted."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import ScannerConfig
from agent.sources.profiles import resolve
from agent.sources.serial_source import SerialSource
from drugtrace.codes import GS, Problem, classify_bytes
from drugtrace.events import Health
from tests.agent.sources.pty_scanner import PtyScanner

CODE = b"81234567890123456789"
GS1 = b"]d2010950110153000317261231" + GS.encode() + b"21SER1"


@pytest.fixture
def scanner(tmp_path: Path) -> Iterator[PtyScanner]:
    pty = PtyScanner(tmp_path / "scanner0")
    yield pty
    pty.close()


class Received:
    def __init__(self) -> None:
        self.scans: queue.Queue[tuple[bytes, str]] = queue.Queue()
        self.fail_on: bytes | None = None

    def __call__(self, raw: bytes, source: str) -> None:
        if raw == self.fail_on:
            raise RuntimeError("counter blew up")
        self.scans.put((raw, source))

    def next(self) -> bytes:
        raw, _ = self.scans.get(timeout=5)
        return raw


def start(scanner: PtyScanner, received: Received, **overrides: object) -> SerialSource:
    settings = resolve(ScannerConfig(name="front", profile="generic-rs232", device=str(scanner.link),
                                     **overrides))  # type: ignore[arg-type]
    source = SerialSource(settings, received)
    source.reopen_s = 0.05
    source.start()
    assert source.opened.wait(5)
    return source


def test_lines_arrive_normalised_with_the_source_name(scanner: PtyScanner) -> None:
    received = Received()
    source = start(scanner, received, fnc1=["~"], prefix="P:")
    try:
        scanner.send(b"P:" + CODE + b"\r\n")
        scanner.send(b"]d2010950110153000317261231~21SER1\r")  # CR only: the next line's leading LF is stripped
        scanner.send(b"\n" + CODE + b"\r\n")
        assert received.scans.get(timeout=5) == (CODE, "front")
        assert received.next() == GS1  # the '~' substitute became GS
        assert received.next() == CODE
    finally:
        source.stop()
    assert source.counters.lines == 3


def test_garbage_binary_noise_and_overlong_lines_never_stop_the_source(scanner: PtyScanner) -> None:
    received = Received()
    source = start(scanner, received, max_line=64)
    try:
        scanner.send(b"\x00\xff\xfe\x80garbage\r\n")  # binary noise
        scanner.send(b"x" * 5000 + b"\r\n")  # overlong: discarded up to the terminator
        scanner.send(b"hello world\r\n")  # printable garbage
        scanner.send(bytes(range(256)) * 4)  # long noise: overlong, discarded
        scanner.send(b"\r\n" + bytes(range(200, 256)))  # short noise: a line the counter refuses
        scanner.send(b"\r\n" + CODE + b"\r\n")
        seen = []
        while not seen or seen[-1] != CODE:
            seen.append(received.next())
    finally:
        source.stop()
    noise = seen[0]
    refusal = classify_bytes(noise).problem
    assert refusal is not None and refusal.code is Problem.NOT_TEXT
    assert refusal.message_en == "Expected ASCII text from the scanner, got byte 0xff at position 1."
    assert b"hello world" in seen
    assert all(len(line) <= 64 for line in seen)
    assert source.counters.overlong >= 1 and source.counters.non_text >= 2
    assert any("Expected a line of at most 64 bytes from scanner front, got 5000 bytes" in p for p in source.problems)
    assert "overlong=" in source.health().detail


def test_a_failing_counter_does_not_kill_the_source(scanner: PtyScanner) -> None:
    received = Received()
    received.fail_on = b"boom"
    source = start(scanner, received)
    try:
        scanner.send(b"boom\r\n" + CODE + b"\r\n")
        assert received.next() == CODE
    finally:
        source.stop()
    assert source.counters.callback_errors == 1
    assert "RuntimeError('counter blew up')" in source.problems[-1]


def test_unplug_and_replug_reopen_and_count_the_gap(scanner: PtyScanner) -> None:
    received = Received()
    source = start(scanner, received)
    try:
        scanner.send(CODE + b"\r\n")
        assert received.next() == CODE
        scanner.send(b"8123")  # half a scan, then the cable is pulled
        scanner.unplug()
        assert source.offline.wait(5)
        health = source.health()
        assert health.health is Health.OFFLINE and health.gaps == 1 and "offline since" in health.detail
        scanner.plug()
        assert source.opened.wait(5)
        scanner.send(CODE + b"\r\n")
        assert received.next() == CODE  # the half scan was not glued onto it
    finally:
        source.stop()
    assert source.health().gaps == 1


def test_a_missing_device_is_reported_offline_not_fatal(tmp_path: Path) -> None:
    settings = resolve(ScannerConfig(name="ghost", profile="generic-usb-cdc", device=str(tmp_path / "absent")))
    source = SerialSource(settings, Received())
    source.reopen_s = 0.05
    source.start()
    try:
        assert not source.opened.wait(0.3)
        health = source.health()
        assert health.health is Health.OFFLINE and "absent" in health.detail
    finally:
        source.stop()
