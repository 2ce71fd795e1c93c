"""Keyboard-wedge decoding with real evdev event values; the evdev device path where /dev/uinput works.

This machine has no /dev/uinput, so the virtual-device test is skipped here and the key-to-text
decoder is tested purely (fed evdev.InputEvent objects as the device would deliver them).
"""

from __future__ import annotations

import os
import queue

import pytest
from evdev import InputEvent
from evdev import ecodes as e

from agent.config import ScannerConfig
from agent.sources.keyboard import KeyboardSource
from agent.sources.keymap import KeyDecoder
from agent.sources.profiles import resolve
from drugtrace.events import Health

SHIFTED = {c: getattr(e, f"KEY_{c}") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
DIGITS = {str(d): getattr(e, f"KEY_{d}") for d in range(10)}


def typed(text: str) -> list[InputEvent]:
    """The key events a US-layout keyboard-wedge scanner sends for `text` (GS as Ctrl+])."""
    events: list[InputEvent] = []

    def tap(code: int, *mods: int) -> None:
        for mod in mods:
            events.append(InputEvent(0, 0, e.EV_KEY, mod, 1))
        events.append(InputEvent(0, 0, e.EV_KEY, code, 1))
        events.append(InputEvent(0, 0, e.EV_SYN, e.SYN_REPORT, 0))
        events.append(InputEvent(0, 0, e.EV_KEY, code, 0))
        for mod in mods:
            events.append(InputEvent(0, 0, e.EV_KEY, mod, 0))

    for char in text:
        if char in DIGITS:
            tap(DIGITS[char])
        elif char.upper() in SHIFTED:
            tap(SHIFTED[char.upper()], *((e.KEY_LEFTSHIFT,) if char.isupper() else ()))
        elif char == "\x1d":
            tap(e.KEY_RIGHTBRACE, e.KEY_LEFTCTRL)
        elif char == "\n":
            tap(e.KEY_ENTER)
        elif char == "]":
            tap(e.KEY_RIGHTBRACE)
        else:
            raise ValueError(char)
    return events


def decode(events: list[InputEvent]) -> str:
    decoder = KeyDecoder()
    return "".join(decoder.feed(ev.type, ev.code, ev.value) for ev in events)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("81234567890123456789\n", id="nmpa"),
        pytest.param("]d2010950110153000317261231\x1d21SerA\n", id="gs1-with-ctrl-bracket-gs"),
        pytest.param("AbCz\n", id="shift-for-capitals"),
    ],
)
def test_key_events_decode_to_the_scanned_text(text: str) -> None:
    assert decode(typed(text)) == text


def test_alt_keypad_codes_and_ignored_keys() -> None:
    alt_0029 = [InputEvent(0, 0, e.EV_KEY, e.KEY_LEFTALT, 1)]
    for code in (e.KEY_KP0, e.KEY_KP0, e.KEY_KP2, e.KEY_KP9):
        alt_0029 += [InputEvent(0, 0, e.EV_KEY, code, 1), InputEvent(0, 0, e.EV_KEY, code, 0)]
    alt_0029.append(InputEvent(0, 0, e.EV_KEY, e.KEY_LEFTALT, 0))
    caps = [InputEvent(0, 0, e.EV_KEY, e.KEY_CAPSLOCK, 1), InputEvent(0, 0, e.EV_KEY, e.KEY_CAPSLOCK, 0)]
    held = [InputEvent(0, 0, e.EV_KEY, e.KEY_A, 1), InputEvent(0, 0, e.EV_KEY, e.KEY_A, 2)]  # autorepeat ignored
    assert decode(alt_0029 + caps + typed("a") + held) == "\x1daa"


def test_unknown_keys_are_counted_not_typed() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(e.EV_KEY, e.KEY_F5, 1) == ""
    assert decoder.unknown_keys == 1


def test_a_missing_input_device_is_offline_with_the_reason(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = resolve(ScannerConfig(name="wedge", profile="generic-keyboard-wedge", device=str(tmp_path / "event9")))
    source = KeyboardSource(settings, lambda raw, name: None)
    source.reopen_s = 0.05
    source.start()
    try:
        assert not source.opened.wait(0.3)
        health = source.health()
        assert health.health is Health.OFFLINE and "No such file" in health.detail
    finally:
        source.stop()


UINPUT = os.access("/dev/uinput", os.W_OK)


@pytest.mark.skipif(not UINPUT, reason="/dev/uinput is not usable on this machine")
def test_a_virtual_keyboard_is_grabbed_and_read() -> None:  # pragma: no cover - needs /dev/uinput
    from evdev import UInput

    keys = [v for k, v in vars(e).items() if k.startswith("KEY_") and isinstance(v, int) and v < 256]
    with UInput({e.EV_KEY: keys}, name="drugtrace-test-scanner") as device:
        scans: queue.Queue[bytes] = queue.Queue()
        settings = resolve(ScannerConfig(name="wedge", profile="generic-keyboard-wedge", device=device.device.path))
        source = KeyboardSource(settings, lambda raw, name: scans.put(raw))
        source.start()
        try:
            assert source.opened.wait(5)
            for event in typed("81234567890123456789\n"):
                device.write(event.type, event.code, event.value)
            device.syn()
            assert scans.get(timeout=5) == b"81234567890123456789"
        finally:
            source.stop()
