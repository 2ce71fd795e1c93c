"""What the collector's child processes (the evaluator, the decoder) share: how a parent starts one
with a pipe each way, tells that it died, and whether to start another."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.process
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

log = logging.getLogger(__name__)


def spawn(target: Callable[..., None], name: str,
          *args: object) -> tuple[multiprocessing.process.BaseProcess, Connection, Connection]:
    """Start `target(*args, inbound, outbound)` in a new (spawned) daemon process; return it with
    the parent's ends: (process, to the child, from the child). The parent keeps only its ends, so
    that each side sees the other's end-of-file when it goes."""
    context = multiprocessing.get_context("spawn")
    inbound, to_child = context.Pipe(duplex=False)
    from_child, outbound = context.Pipe(duplex=False)
    process = context.Process(target=target, name=name, daemon=True, args=(*args, inbound, outbound))
    process.start()
    inbound.close()
    outbound.close()
    return process, to_child, from_child


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
