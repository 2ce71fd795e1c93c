"""The running county: the collector and one agent process per store, each agent fed by a
scanner on a pseudo-terminal and driven through its POS API (`Counter`)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from collector.demo.counter import Counter, PtyScanner
from collector.demo.county import CountySetup, DemoError, StoreSetup
from collector.demo.processes import Child, start_agent, start_collector
from collector.store.sqlite import UNJUDGED_EVENTS

START_TIMEOUT_S = 90.0
DRAIN_TIMEOUT_S = 60.0


def _count(path: Path, sql: str, args: tuple[object, ...] = ()) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute(sql, args).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


class RunningCounty:
    """Starts and stops the processes; the replay's `Agents` (reinstall, silence)."""

    def __init__(self, setup: CountySetup, say: Callable[[str], None]) -> None:
        self.setup = setup
        self.say = say
        self.collector: Child | None = None
        self.agents: dict[str, Child] = {}
        self.scanners: dict[str, PtyScanner] = {}
        self.counters: dict[str, Counter] = {}
        self.wiped_events: dict[str, int] = {}  # events uploaded by agent data folders since wiped
        self._stores = {s.store: s for s in setup.stores}

    # -- start ------------------------------------------------------------------------------------

    def start_collector(self) -> Child:
        log = self.setup.collector_config.parent / "collector.log"
        self.collector = start_collector(self.setup.collector_config, log)
        if not self.collector.wait_for("ingest subscribed.", START_TIMEOUT_S):
            raise DemoError(f"Expected the collector to subscribe within {START_TIMEOUT_S:g} s, got (see {log}):\n"
                            f"{self.collector.tail()}")
        return self.collector

    def start_agents(self) -> None:
        for store in self.setup.stores:
            self.scanners[store.store] = PtyScanner(store.scanner_link)
            self.agents[store.store] = self._launch(store)
        for store in self.setup.stores:
            self._await_ready(store)
            self.counters[store.store] = Counter(store.store, store.api, store.token, self.scanners[store.store])

    def _launch(self, store: StoreSetup) -> Child:
        return start_agent(store.store, store.config, store.folder / "agent.log")

    def _await_ready(self, store: StoreSetup) -> None:
        child = self.agents[store.store]
        for text in ("agent state=started", "scanner=counter1 state=open"):
            if not child.wait_for(text, START_TIMEOUT_S):
                raise DemoError(f"Expected agent {store.store} to log {text!r} within {START_TIMEOUT_S:g} s, got "
                                f"(see {child.log_path}):\n{child.tail()}")

    # -- during the replay ------------------------------------------------------------------------

    def wait_uploaded(self, store: str) -> None:
        """Until the store's outbox holds nothing unacknowledged (polling its counter API)."""
        counter = self.counters[store]
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while counter.outbox_depth() > 0:
            if time.monotonic() > deadline:
                raise DemoError(f"Expected {store}'s outbox to drain within {DRAIN_TIMEOUT_S:g} s, got "
                                f"{counter.outbox_depth()} events waiting")
            time.sleep(0.05)

    def reinstall(self, store: str) -> None:
        """Stop the agent once everything is uploaded, wipe its data folder, start it again."""
        setup = self._stores[store]
        self.wait_uploaded(store)
        self.agents[store].stop()
        outbox = setup.folder / "data" / "outbox.sqlite"
        self.wiped_events[store] = self.wiped_events.get(store, 0) + self.outbox_events(store)
        shutil.rmtree(outbox.parent)
        self.agents[store] = self._launch(setup)
        self._await_ready(setup)

    def silence(self, store: str) -> None:
        self.wait_uploaded(store)
        self.agents[store].stop()

    # -- checks ----------------------------------------------------------------------------------

    def outbox_events(self, store: str) -> int:
        """Events (not heartbeats) the store's current agent data folder has committed."""
        path = self._stores[store].folder / "data" / "outbox.sqlite"
        return _count(path, "SELECT count(*) FROM events WHERE type != 'heartbeat'")

    def ledger_events(self, store: str) -> int:
        return _count(self.setup.ledger, "SELECT count(*) FROM events WHERE store = ? AND type != 'heartbeat'",
                      (store,))

    def not_yet_in_ledger(self) -> dict[str, int]:
        """Per store: events its agents committed that the collector's ledger does not hold yet;
        and under "(rules)" the stored events its rules have not judged yet."""
        gaps = {}
        for store in self._stores:
            sent = self.outbox_events(store) + self.wiped_events.get(store, 0)
            gap = sent - self.ledger_events(store)
            if gap:
                gaps[store] = gap
        unjudged = _count(self.setup.ledger, UNJUDGED_EVENTS)
        if unjudged:
            gaps["(rules)"] = unjudged
        return gaps

    def running(self) -> list[Child]:
        children = [child for child in self.agents.values() if child.alive()]
        if self.collector is not None and self.collector.alive():
            children.append(self.collector)
        return children

    # -- stop ------------------------------------------------------------------------------------

    def stop(self) -> dict[str, int]:
        """SIGINT to every agent, then to the collector; wait for each. Returns exit codes by name."""
        codes: dict[str, int] = {}
        agents = list(self.agents.values())
        threads = [threading.Thread(target=lambda c=child: codes.__setitem__(c.name, c.stop())) for child in agents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.collector is not None:
            codes[self.collector.name] = self.collector.stop()
        for scanner in self.scanners.values():
            scanner.close()
        return codes
