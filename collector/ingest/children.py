"""What the collector's child processes (the evaluator, the decoder) share: how a parent starts one
with a pipe each way, tells that it died, and whether to start another."""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import multiprocessing.process
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

log = logging.getLogger(__name__)
PIPE_BYTES = 1 << 20  # Linux's default most an unprivileged process may ask for (/proc/sys/fs/pipe-max-size)


def spawn(target: Callable[..., None], name: str,
          *args: object) -> tuple[multiprocessing.process.BaseProcess, Connection, Connection]:
    """Start `target(*args, inbound, outbound)` in a new (spawned) daemon process; return it with
    the parent's ends: (process, to the child, from the child). The parent keeps only its ends, so
    that each side sees the other's end-of-file when it goes."""
    context = multiprocessing.get_context("spawn")
    inbound, to_child = context.Pipe(duplex=False)
    from_child, outbound = context.Pipe(duplex=False)
    widen(to_child)
    widen(from_child)
    process = context.Process(target=target, name=name, daemon=True, args=(*args, inbound, outbound))
    process.start()
    inbound.close()
    outbound.close()
    return process, to_child, from_child


def widen(connection: Connection, size: int = PIPE_BYTES) -> None:
    """Let the pipe behind `connection` hold `size` bytes instead of 64 KiB: a chunk of decoded
    events (about 1 MB) then crosses in one write and one read instead of about twenty of each,
    every one a wake-up of the other side (store-only ingest: the ingest process 49-51 against
    52-60 µs of CPU per event). Where the system refuses, the pipe stays as it was."""
    try:
        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, size)
    except (AttributeError, OSError):  # not Linux, or over the system's or the user's limit
        log.debug("pipe left at its default size", exc_info=True)


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
