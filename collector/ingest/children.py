"""What the collector's child processes (the evaluator, the decoder) share: how a parent tells that
one died and whether to start another."""

from __future__ import annotations

import logging
import multiprocessing.process
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def start_another(process: multiprocessing.process.BaseProcess | None, stopping: threading.Event, name: str,
                  wait_s: float) -> bool:
    """After the pipe from a child closed: reap it, and say whether a new one is to be started
    (not when stopping; otherwise after `wait_s`, logged with the dead one's exit code)."""
    if process is not None:
        process.join()
    if stopping.is_set():
        return False
    log.error("the %s process ended (exit code %s); starting another", name,
              process.exitcode if process is not None else None)
    return not stopping.wait(wait_s)


def notify(listeners: list[Callable[[], None]]) -> None:
    """Call each restart listener (metrics); one that fails does not stop the others."""
    for listener in list(listeners):
        try:
            listener()
        except Exception:  # noqa: BLE001
            log.exception("restart listener failed")
