"""Keyboard-wedge (USB-HID) scanners on Linux: read the input device with evdev and grab it.

Grabbing (EVIOCGRAB) stops the scanner's keystrokes from reaching other programs. Needs read access
to /dev/input/event* (the `input` group). Where that is not possible, the counter page's focused
scan field receives the keystrokes instead (docs/agent.md).
"""

from __future__ import annotations

import select
from typing import Any

from agent.sources.base import Source
from agent.sources.keymap import KeyDecoder

READ_TIMEOUT_S = 0.2


class KeyboardSource(Source):
    """Reads a keyboard-wedge scanner's input device (see agent.sources.base.Source)."""

    def _open(self) -> Any:
        import evdev  # Linux only; imported here so other platforms can still load the agent

        device = evdev.InputDevice(self.settings.device)
        try:
            device.grab()
        except OSError:
            device.close()
            raise
        self._decoder = KeyDecoder()
        return device

    def _read(self, handle: Any) -> bytes:
        ready, _, _ = select.select([handle.fd], [], [], READ_TIMEOUT_S)
        if not ready:
            return b""
        text = "".join(self._decoder.feed(ev.type, ev.code, ev.value) for ev in handle.read())
        return text.encode("latin-1", "replace")

    def _close(self, handle: Any) -> None:
        try:
            handle.ungrab()
        finally:
            handle.close()
