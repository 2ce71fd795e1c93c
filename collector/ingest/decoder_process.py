"""Decoding in a process of its own, so that the ingest writer never waits for the interpreter lock.

In one process, the decoder thread held the interpreter lock for whole chunks of messages while
the writer's `executemany` needed it back after every row it stored: the writer stood still
whenever the decoder ran, and ingest went no faster with the decoder in a thread than with it
inline (bench/ingest.py; docs/collector.md, "Benchmark"). Here a second process decodes
(`collector.ingest.decode`, pure) and sends back plain rows, which cost the ingest process about
2 µs per event to receive instead of 13 µs to decode.

Nothing is lost when the decoder process dies: the chunks sent and not yet answered are kept and
sent again, in order, to its successor (decoding is pure, so decoding twice changes nothing).
Messages are acknowledged only after their batch commits, whichever process decoded them.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from collector.ingest.children import notify, spawn, start_another
from collector.ingest.decode import Decoded, Message, decode_messages
from collector.ingest.gc_tuning import tune_gc
from collector.store.base import NewEvent, QuarantineRecord, stamp

log = logging.getLogger(__name__)
IN_FLIGHT = 4  # chunks sent to the decoder process and not yet delivered, at most
_RETRY_S = 0.5  # before starting a new decoder process

Chunk = list[Message]
_Wire = tuple[int, list[tuple[str, bytes, dt.datetime]]]  # (chunk number, (topic, payload, received_at) of each)


def decode_wire(county: str, wire: _Wire) -> tuple:  # type: ignore[type-arg]
    """One chunk's answer: (chunk number, event rows as plain tuples, quarantine, statuses, messages).

    Decoding is pure and never raises; should it all the same, every message of the chunk is
    quarantined with the reason rather than lost or retried forever."""
    number, messages = wire
    chunk = [Message(topic, payload, at) for topic, payload, at in messages]
    try:
        decoded = decode_messages(chunk, county)
    except Exception as exc:  # noqa: BLE001 - a bug must not stop ingest: keep the payloads, say why
        log.exception("decoding failed; quarantining the chunk")
        received = [stamp(m.received_at) for m in chunk]
        decoded = Decoded(quarantine=[QuarantineRecord(m.topic, None, f"Decoding failed: {exc!r}", m.payload, at)
                                      for m, at in zip(chunk, received)], messages=len(chunk))
    # plain tuples without the decoded structs: a third of the cost to send and receive
    return number, [event[:11] for event in decoded.events], decoded.quarantine, decoded.statuses, decoded.messages


def run_decoder(county: str, requests: Connection, results: Connection) -> None:
    """The decoder process: decode each chunk it is sent and send the answer back, until end-of-file."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent ends us
    tune_gc()
    try:
        while True:
            try:
                wire: _Wire = requests.recv()
            except (EOFError, OSError):  # the parent closed the pipe or is gone
                return
            results.send(decode_wire(county, wire))
    finally:
        results.close()


class DecoderProcess:
    """Decodes chunks of messages in a child process and delivers them in the order fed.

    `feed(chunk)` (from one thread) numbers and sends a chunk, blocking while IN_FLIGHT chunks
    are undelivered. The reader thread hands each decoded chunk, in order, to `deliver`. When the
    process dies the reader starts another and sends it every undelivered chunk again (an answer
    that arrives twice is ignored)."""

    def __init__(self, county: str, deliver: Callable[[Chunk, Decoded], None], *, in_flight: int = IN_FLIGHT) -> None:
        self.county = county
        self.deliver = deliver
        self.restart_listeners: list[Callable[[], None]] = []  # called after each new process (metrics)
        self.restarts = 0
        self._sending = threading.Lock()  # one sender at a time on the pipe; never held while receiving
        self._undelivered: dict[int, Chunk] = {}
        self._answered: dict[int, Decoded] = {}
        self._fed = 0  # chunks numbered so far
        self._delivered = 0  # chunks delivered so far (the next to deliver is this number)
        self._room = threading.Semaphore(in_flight)
        self._stopping = threading.Event()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._requests: Connection | None = None
        self._results: Connection | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        with self._sending:
            self._spawn()
        self._reader = threading.Thread(target=self._read, name="ingest-decoder-results", daemon=True)
        self._reader.start()

    def _spawn(self) -> None:
        """Start a process with fresh pipes (with `_sending` held)."""
        self._process, self._requests, self._results = spawn(run_decoder, "drugtrace-decoder", self.county)

    def _send(self, number: int, chunk: Chunk) -> None:
        with self._sending:
            if self._requests is None:
                return
            try:
                self._requests.send((number, [(m.topic, m.payload, m.received_at) for m in chunk]))
            except OSError:  # the process died: the reader starts another and sends the chunk again
                pass

    def feed(self, chunk: Chunk) -> bool:
        """Send a chunk to be decoded (blocks while IN_FLIGHT chunks are undelivered); False once stopping."""
        while not self._room.acquire(timeout=0.2):
            if self._stopping.is_set():
                return False
        number = self._fed
        self._fed += 1
        self._undelivered[number] = chunk
        self._send(number, chunk)
        return True

    def _read(self) -> None:
        while True:
            results = self._results
            assert results is not None
            try:
                while True:
                    number, rows, quarantine, statuses, messages = results.recv()
                    if number in self._undelivered and number not in self._answered:
                        self._answered[number] = Decoded([NewEvent(*row) for row in rows], quarantine, statuses,
                                                         messages)
                    while self._delivered in self._answered:
                        decoded = self._answered.pop(self._delivered)
                        chunk = self._undelivered.pop(self._delivered)
                        self._delivered += 1
                        self.deliver(chunk, decoded)
                        self._room.release()
            except (EOFError, OSError):
                pass
            results.close()
            if not start_another(self._process, self._stopping, "decoder", _RETRY_S):
                return
            with self._sending:
                if self._requests is not None:
                    self._requests.close()
                self.restarts += 1
                self._spawn()
            notify(self.restart_listeners)
            again = sorted(n for n in list(self._undelivered) if n not in self._answered)
            # sent from another thread: this one must go on reading, or a process that answers
            # while the pipe to it is full would wait for us while we wait for it
            threading.Thread(target=self._send_again, args=(again,), name="ingest-decoder-resend",
                             daemon=True).start()

    def _send_again(self, numbers: list[int]) -> None:
        for number in numbers:
            chunk = self._undelivered.get(number)
            if chunk is not None:
                self._send(number, chunk)

    def stop(self, timeout: float = 30.0) -> None:
        """End the process; chunks not yet delivered are dropped (their messages stay unacknowledged)."""
        self._stopping.set()
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
        if self._reader is not None:
            self._reader.join(timeout)
        with self._sending:
            if self._requests is not None:
                self._requests.close()
                self._requests = None
