"""A serial scanner stand-in: a real pseudo-terminal whose slave path the agent opens.

"Unplug" closes the master and removes the stable symlink (like udev's /dev/serial/by-id link);
"replug" makes a new pty and points the symlink at it.
"""

from __future__ import annotations

import os
import tty
from pathlib import Path


class PtyScanner:
    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no line discipline: bytes pass as the scanner sends them
        self.master = master
        self._slave = slave
        if self.link.is_symlink():
            self.link.unlink()
        self.link.symlink_to(os.ttyname(slave))

    def send(self, data: bytes) -> None:
        assert self.master is not None
        os.write(self.master, data)

    def unplug(self) -> None:
        assert self.master is not None
        os.close(self.master)
        os.close(self._slave)
        self.master = None
        self.link.unlink()

    def close(self) -> None:
        if self.master is not None:
            self.unplug()
