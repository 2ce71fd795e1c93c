"""`--test` mode: print events as JSON lines instead of sending them.

Nothing is acknowledged: a later real run still uploads every event printed here.
"""

from __future__ import annotations

import threading
from typing import TextIO

from agent.outbox import SqliteOutbox

POLL_S = 0.05


class PrintingUplink:
    """Prints each outbox event (its wire JSON) once per run, in seq order."""

    def __init__(self, outbox: SqliteOutbox, out: TextIO, batch_size: int = 500) -> None:
        self.outbox = outbox
        self.out = out
        self.batch_size = batch_size
        self.printed_up_to = outbox.stats().acked_seq
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="printer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self.flush()

    def flush(self) -> None:
        while pending := self.outbox.pending(self.batch_size, after_seq=self.printed_up_to):
            self.out.write("".join(p.body.decode() + "\n" for p in pending))
            self.out.flush()
            self.printed_up_to = pending[-1].seq

    def _run(self) -> None:
        while not self._stop.is_set():
            self.flush()
            self._wake.wait(POLL_S)
            self._wake.clear()
