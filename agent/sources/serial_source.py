"""Serial scanners (USB-CDC, RS-232) through pyserial: a device path, a pty path or a pyserial URL."""

from __future__ import annotations

import serial

from agent.sources.base import Source

READ_TIMEOUT_S = 0.2


class SerialSource(Source):
    """Reads a serial scanner; reopens it after unplug/replug (see agent.sources.base.Source)."""

    def _open(self) -> serial.SerialBase:
        return serial.serial_for_url(self.settings.device, baudrate=self.settings.baud, timeout=READ_TIMEOUT_S)

    def _read(self, handle: serial.SerialBase) -> bytes:
        first = handle.read(1)  # waits up to READ_TIMEOUT_S, so stop() is noticed
        if not first:
            return b""
        waiting = handle.in_waiting
        return first + handle.read(waiting) if waiting else first

    def _close(self, handle: serial.SerialBase) -> None:
        handle.close()
