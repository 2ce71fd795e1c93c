"""The rules in a process of their own: ingest stores and acknowledges, the evaluator judges.

With `[ingest] evaluator = "process"` (the default) the ingest writer (collector.ingest.subscriber)
commits events and acknowledges them without judging anything, then wakes the evaluator: a second
process (a second CPU core, no shared interpreter lock) that judges round after round
(`LedgerService.judge_round`) until it has judged every stored event, and runs `periodic()` every
`[ingest] periodic_rules_s`. Its applier thread writes the judged rounds in the writer's turn
meanwhile (collector.ingest.applier), so judging never waits for the ingest writer's transaction.

The evaluation position is kept in the ledger and moves in the transaction that records the hits,
so a crash of either process loses nothing: a restarted evaluator resumes from the position, and
judging an event twice changes nothing (hits come from whole histories; one open alert per
(rule, subject)). The parent restarts an evaluator that died; an evaluator whose parent died
judges what is stored and exits.

Between the processes, two pipes and nothing shared that a killed process could leave locked:
to the evaluator, a byte after each commit (written without blocking: a full pipe already means
"wake up"), and end-of-file when it is to stop or the parent died; from it, `Progress` reports
(metrics, the benchmark, and camera stills to ask for, which the subscriber publishes).
"""

from __future__ import annotations

import faulthandler
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from collector.config import CollectorConfig
from collector.ingest.children import notify, spawn, start_another
from collector.stills import StillRequestOut
from collector.store.base import AlertChanges

log = logging.getLogger(__name__)
_RETRY_S = 1.0  # after a failed round (database busy or failing) or a dead evaluator
_WRITER_CACHE_MIB = 64  # the applier's connection reads alerts and rechecks, not histories
# With periodic work left (catching up), the next share runs this soon — not after every round, so
# that a sustained load's rounds follow each other without it (alert latency; bench/ingest.py).
_PERIODIC_BACKLOG_S = 2.0


@dataclass(frozen=True)
class Progress:
    """One committed evaluation round (or periodic run)."""

    upto: int  # every event stored up to this position is judged
    committed_at: float  # time.time() just after the commit
    alerts: AlertChanges = AlertChanges()
    still_requests: list[StillRequestOut] = field(default_factory=list)


def run_evaluator(config: CollectorConfig, wake: Connection, reports: Connection) -> None:
    """The evaluator process's main loop (see the module docstring)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s evaluator %(levelname)s %(name)s: %(message)s")
    from collector.ingest.applier import Applier
    from collector.ingest.gc_tuning import tune_gc
    from collector.ingest.subscriber import utcnow
    from collector.ledger_service import LedgerService
    from collector.runner import open_ledger
    from collector.stills import StillArchive

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent ends us via the pipe
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where the evaluator is
    tune_gc()
    ledger = open_ledger(config, mapped=True)  # the judge reads histories at random across the file
    ledger.leave_checkpoints()  # the collector's process runs the checkpointer (collector.runner)
    stills = StillArchive(config.path("stills"))
    service = LedgerService(ledger, config.county, config.rules, stills=stills)
    # the applier's own connection: it writes while the judge reads its snapshots (collector.ingest.applier)
    writer = open_ledger(config, cache_mib=_WRITER_CACHE_MIB)
    writer.leave_checkpoints()
    sending = threading.Lock()  # the judge (periodic) and the applier both report

    def report(progress: Progress) -> None:
        with sending:
            _report(reports, progress)

    applier = Applier(LedgerService(writer, config.county, config.rules, stills=stills), utcnow,
                      lambda done: report(Progress(done.upto, time.time(), done.alerts, done.still_requests)))
    applier.start()
    period = config.ingest.periodic_rules_s
    next_periodic = time.monotonic() + period
    backlog = True  # whatever was stored while no evaluator ran
    stopping = False
    generation, position = applier.generation, None  # judged up to (None: the ledger's position)
    os.set_blocking(wake.fileno(), False)
    try:
        while True:
            if not backlog and not stopping:
                wait([wake], max(0.0, next_periodic - time.monotonic()))
            stopping = _drained(wake) or stopping  # before judging: a commit from now on wakes the next round
            if applier.generation != generation:  # rounds were dropped unwritten: judge again from the ledger's
                generation, position = applier.generation, None
            try:
                judged = service.judge_round(utcnow(), after=position)
            except Exception:  # noqa: BLE001 - a round that failed is judged again from the same position
                log.exception("evaluation round failed; will retry")
                if stopping:
                    break  # the next evaluator resumes from the ledger's position
                time.sleep(_RETRY_S)  # the database refused: back off before the same round again
                continue
            backlog = judged.more
            if judged.judged:
                applier.put(generation, judged)  # written while the next round is judged
                position = judged.upto
            if stopping and not backlog:
                applier.drain()  # rounds it could not write are judged by the next evaluator, from the position
                break
            if not stopping and time.monotonic() >= next_periodic:
                try:
                    changes = service.periodic(utcnow())
                    report(Progress(ledger.evaluated_upto(), time.time(), changes))  # written, not judged
                except Exception:  # noqa: BLE001
                    log.exception("periodic rules failed; will retry")
                next_periodic = time.monotonic() + (min(period, _PERIODIC_BACKLOG_S) if service.periodic_backlog
                                                    else period)
    finally:
        applier.stop()
        writer.close()
        ledger.close()
        reports.close()


def _drained(wake: Connection) -> bool:
    """Read every wake-up byte waiting; True at end-of-file (stop, or the parent is gone)."""
    while True:
        try:
            if not os.read(wake.fileno(), 4096):
                return True
        except BlockingIOError:
            return False


def _report(reports: Connection, progress: Progress) -> None:
    try:
        reports.send(progress)
    except (BrokenPipeError, OSError):  # the parent is gone: nobody to tell
        pass


class Evaluator:
    """The parent's handle: starts the evaluator process, wakes it, restarts it if it dies, stops it."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.listeners: list[Callable[[Progress], None]] = []
        self.restart_listeners: list[Callable[[], None]] = []  # called after each new process (metrics)
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._wake: Connection | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        self._reader = threading.Thread(target=self._supervise, name="evaluator-reports", daemon=True)
        with self._lock:
            self._spawn()
        self._reader.start()

    def _spawn(self) -> None:
        self._process, self._wake, self._reports = spawn(run_evaluator, "drugtrace-evaluator", self.config)
        os.set_blocking(self._wake.fileno(), False)

    def committed(self) -> None:
        """Events were committed: wake the evaluator (never blocks)."""
        with self._lock:
            if self._wake is None:
                return
            try:
                os.write(self._wake.fileno(), b"!")
            except OSError:  # full of wake-ups already, or the evaluator is gone (its successor judges from
                pass  # the ledger's position)

    def _supervise(self) -> None:
        while True:
            reports = self._reports
            try:
                while True:
                    progress = reports.recv()
                    for listener in list(self.listeners):
                        try:
                            listener(progress)
                        except Exception:  # noqa: BLE001 - a listener's failure must not stop the reports
                            log.exception("evaluator progress listener failed")
            except (EOFError, OSError):
                pass
            reports.close()
            if not start_another(self._process, self._stopping, "evaluator", _RETRY_S):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                if self._wake is not None:
                    self._wake.close()
                self.restarts += 1
                self._spawn()
            notify(self.restart_listeners)

    def stop(self, timeout: float = 60.0) -> None:
        """Let the evaluator judge what is stored, then end it.

        Only the supervisor thread reaps the process (two threads waiting on one child made the
        loser believe it was still running)."""
        with self._lock:
            self._stopping.set()
            if self._wake is not None:
                self._wake.close()  # end-of-file: judge what is stored, then exit
                self._wake = None
        if self._reader is None:
            return
        self._reader.join(timeout)
        process = self._process
        if self._reader.is_alive() and process is not None and process.pid is not None:
            log.error("the evaluator did not stop within %.0f s; terminating it (its stack follows)", timeout)
            try:
                os.kill(process.pid, signal.SIGUSR1)
                time.sleep(0.5)  # let it print the stack before the end
                process.terminate()
            except ProcessLookupError:
                pass  # it ended meanwhile
            self._reader.join(10)
