"""The evaluator's writer: judged rounds are written from a thread of its own, so that the
evaluator judges the next events while this one waits for the ledger writer's turn.

The ingest writer holds the turn for most of a burst (one transaction per batch). An evaluator that
waited for it after every round sat idle for a quarter of the time and finished the burst ten
seconds after ingest (bench/ingest.py; docs/collector.md, "Benchmark"). Now the evaluator's main
thread judges round after round from its own snapshots (`LedgerService.judge_round`, chained by
position) and hands each to the `Applier`, which writes every round waiting in one transaction
(`LedgerService.apply_rounds`) as soon as the turn is free. At most `held` rounds wait; the judge
blocks beyond that.

A round that cannot be written (the position moved: another evaluator; or the database failed)
starts a new *generation*: every round judged in the old one is dropped unwritten, and the judge,
seeing the generation change, judges again from the ledger's position. Nothing is written twice and
nothing skipped; a crash loses only unwritten judgements, redone from the position at restart.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable

from collector.ledger_service import Evaluation, LedgerService, Round

log = logging.getLogger(__name__)
HELD_ROUNDS = 3  # judged rounds waiting to be written, at most (memory and alert delay stay bounded)
_RETRY_S = 1.0  # after a failed write (database busy or failing)


class Applier:
    """Writes judged rounds in order, each batch of waiting rounds in one transaction."""

    def __init__(self, service: LedgerService, clock: Callable[[], dt.datetime],
                 written: Callable[[Evaluation], None], *, held: int = HELD_ROUNDS) -> None:
        self.service = service  # on a ledger connection of its own
        self.clock = clock
        self.written = written  # called after each commit that wrote rounds
        self._rounds: queue.Queue[tuple[int, Round] | None] = queue.Queue(maxsize=held)
        self._generation = 0
        self._thread = threading.Thread(target=self._run, name="evaluator-applier", daemon=True)

    @property
    def generation(self) -> int:
        """Changes whenever rounds were dropped: the judge must start again from the ledger's position."""
        return self._generation

    def start(self) -> None:
        self._thread.start()

    def put(self, generation: int, judged: Round) -> None:
        """Queue a round judged in `generation` (blocks while `held` rounds wait)."""
        self._rounds.put((generation, judged))

    def drain(self) -> None:
        """Return once every round queued so far is written or dropped."""
        self._rounds.join()

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        if self._thread.is_alive():
            self._rounds.put(None)
            self._thread.join()

    def _take(self) -> tuple[list[tuple[int, Round]], bool]:
        """The rounds waiting now (at least one, blocking), and whether the stop mark came."""
        taken: list[tuple[int, Round]] = []
        item = self._rounds.get()
        while item is not None:
            taken.append(item)
            try:
                item = self._rounds.get_nowait()
            except queue.Empty:
                return taken, False
        return taken, True

    def _run(self) -> None:
        stop = False
        while not stop:
            taken, stop = self._take()
            try:
                rounds = [judged for generation, judged in taken if generation == self._generation]
                if rounds:
                    self._write(rounds)
            finally:
                for _ in range(len(taken) + stop):
                    self._rounds.task_done()

    def _write(self, rounds: list[Round]) -> None:
        try:
            evaluation = self.service.apply_rounds(rounds, self.clock())
        except Exception:  # noqa: BLE001 - the rounds are judged again from the ledger's position
            log.exception("writing judged rounds failed; they will be judged again")
            self._generation += 1
            time.sleep(_RETRY_S)  # the database refused: back off before the judge's next rounds
            return
        if not evaluation.judged:  # another evaluator moved the position
            self._generation += 1
            return
        self.written(evaluation)
