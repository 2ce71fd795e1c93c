"""Replay a scenario against the running agents: phase by phase, each store's steps in order in its
own thread, stores in parallel; a phase ends when every store finished it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from collector.demo.county import DemoError
from collector.demo.counter import Counter
from collector.demo.plan import Line, Phase, Reinstall, Return, Sale, Scan, Scenario, Silence, Step, Stock


class Agents(Protocol):
    """What the replay needs from whoever runs the agent processes."""

    def reinstall(self, store: str) -> None: ...
    def silence(self, store: str) -> None: ...


@dataclass
class Progress:
    """What happened, for the waits and the summary (times are time.monotonic())."""

    documents: int = 0
    scans: int = 0
    sales: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (store, ref) -> (doc, setl_id)
    last_sale: float = 0.0
    silenced: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Replay:
    def __init__(self, scenario: Scenario, counters: Mapping[str, Counter], agents: Agents,
                 say: Callable[[str], None]) -> None:
        self.scenario = scenario
        self.counters = counters
        self.agents = agents
        self.say = say
        self.progress = Progress()

    def run(self) -> Progress:
        for number, phase in enumerate(self.scenario.phases, 1):
            started = time.monotonic()
            self._run_phase(phase)
            self.say(f"phase {number}/{len(self.scenario.phases)} {phase.name}: {len(phase.steps)} steps at "
                     f"{len(phase.stores())} stores in {time.monotonic() - started:.1f} s")
        return self.progress

    def _run_phase(self, phase: Phase) -> None:
        failures: list[BaseException] = []

        def work(store: str) -> None:
            try:
                for step in phase.steps_of(store):
                    self._step(step)
            except BaseException as exc:  # reported after the phase, with the store's name in it
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(store,), name=f"replay-{store}", daemon=True)
                   for store in phase.stores()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]

    def _step(self, step: Step) -> None:
        if isinstance(step, Reinstall):
            self.say(f"{step.store}: agent reinstalled, its local history wiped (the counter forgets what it sold)")
            self.agents.reinstall(step.store)
        elif isinstance(step, Silence):
            self.agents.silence(step.store)
            with self.progress.lock:
                self.progress.silenced[step.store] = time.monotonic()
            self.say(f"{step.store}: agent stopped, no more heartbeats")
        elif isinstance(step, Stock):
            self._stock(step)
        elif isinstance(step, Sale):
            self._sale(step)
        elif isinstance(step, Return):
            self._return(step)
        else:  # pragma: no cover - the Step union is closed
            raise DemoError(f"Expected a scenario step, got {step!r}")

    def _count(self, documents: int, scans: int, sale: bool = False) -> None:
        with self.progress.lock:
            self.progress.documents += documents
            self.progress.scans += scans
            if sale:
                self.progress.last_sale = time.monotonic()

    def _stock(self, step: Stock) -> None:
        counter = self.counters[step.store]
        doc = counter.open(step.kind.value, supplier=step.supplier, invoice=step.invoice)
        counter.add_lines(doc, step.lines)
        for scan in step.scans:
            counter.scan(doc, scan, step.via)
        counter.finish(doc)
        self._count(1, len(step.scans))

    def _sale(self, step: Sale) -> None:
        counter = self.counters[step.store]
        doc = counter.open("sale")
        counter.add_lines(doc, step.lines)
        for scan in step.scans:
            counter.scan(doc, scan, step.via)
        if step.cancel:
            counter.cancel(doc)
        else:
            for number, line in enumerate(step.lines, 1):
                if line.override:
                    counter.override(doc, number, line.override)
            counter.settle(doc, step.setl_id, step.insurance, step.total_fen, step.fund_fen, step.psn_no)
        with self.progress.lock:
            self.progress.sales[(step.store, step.ref)] = (doc, step.setl_id)
        self._count(1, len(step.scans), sale=True)

    def _return(self, step: Return) -> None:
        counter = self.counters[step.store]
        with self.progress.lock:
            original = self.progress.sales.get((step.store, step.sale_ref))
        if original is None:
            raise DemoError(f"{step.store}: expected sale {step.sale_ref!r} before its return, got none")
        doc = counter.open("sale_return", original_doc=original[0], setl_id=original[1])
        counter.add_lines(doc, (Line(step.product, len(step.boxes)),))
        for box in step.boxes:
            counter.scan(doc, Scan(box.raw), step.via)
        counter.finish(doc)
        self._count(1, len(step.boxes))
