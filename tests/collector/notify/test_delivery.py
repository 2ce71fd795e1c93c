"""Durable delivery through a real local webhook that fails, then hangs, then recovers.

Ingest runs at the same time, through the real LedgerService on a real SQLite ledger, raising
alerts whose notifications the triggers queue. The test asserts that every notification reaches
each endpoint exactly once in effect (each idempotency key accepted once, none missing), that a
healthy second endpoint keeps up while the first is down, and that ingest keeps its rate (the
ratio of events/s with the endpoint failing or hanging to events/s with it healthy).
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.alerts.recording import LifecycleLedger
from collector.ledger_service import LedgerService
from collector.notify.config import Endpoint, EndpointKind, Notify
from collector.notify.worker import Notifier
from collector.rules import RuleSettings, Severity
from drugtrace.events import Code, CodeKind
from tests.collector.helpers import COUNTY, T0, TZ, message, receipt, sale
from tests.collector.notify.receiver import Mode, Receiver

CODES_PER_BATCH = 40  # each received and sold at S1 ...
ALERTS_PER_BATCH = 5  # ... and this many of them sold again at S2: a new alert each
BATCHES_PER_PHASE = 4
BATCH_EVENTS = 2 * CODES_PER_BATCH + ALERTS_PER_BATCH


class Load:
    """Batches of legitimate traffic with a few frauds in each."""

    def __init__(self, ledger: LifecycleLedger) -> None:
        self.service = LedgerService(ledger, COUNTY, RuleSettings())
        self.codes = itertools.count(1)
        self.seq = {"S1": itertools.count(1), "S2": itertools.count(1)}

    def batch(self) -> list:  # type: ignore[type-arg]
        s1, s2 = [], []
        for index in range(CODES_PER_BATCH):
            key = f"8{next(self.codes):019d}"
            code = Code(key=key, kind=CodeKind.NMPA, product_key=key[:7])
            s1 += [receipt("S1", next(self.seq["S1"]), 0, code), sale("S1", next(self.seq["S1"]), 10, code)]
            if index < ALERTS_PER_BATCH:
                s2.append(sale("S2", next(self.seq["S2"]), 20, code))
        return [message("S1", s1), message("S2", s2)]

    def phase(self) -> list[float]:
        """Ingest BATCHES_PER_PHASE batches; the seconds each took."""
        batches = [self.batch() for _ in range(BATCHES_PER_PHASE)]
        durations: list[float] = []
        for batch in batches:
            started = time.perf_counter()
            outcome = self.service.ingest(batch, T0 + dt.timedelta(hours=1))
            durations.append(time.perf_counter() - started)
            assert outcome.alerts.opened == ALERTS_PER_BATCH
        return durations


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    flaky, steady = Receiver().start(), Receiver().start()
    yield flaky, steady
    flaky.stop()
    steady.stop()


def keys_routed_to(ledger: LifecycleLedger, endpoint: str) -> set[str]:
    instance = ledger.conn.execute("SELECT value FROM notify_meta").fetchone()[0]
    return {f"drugtrace-{instance}-{n}" for (n,) in ledger.conn.execute(
        "SELECT notification FROM notification_deliveries WHERE endpoint = ?", (endpoint,))}


@pytest.mark.slow
def test_failing_then_hanging_endpoint_gets_everything_once_and_ingest_keeps_its_rate(
        tmp_path: Path, receivers: tuple[Receiver, Receiver]) -> None:
    flaky, steady = receivers
    ledger = LifecycleLedger(tmp_path / "ledger.db")
    settings = Notify(poll_s=0.05, retry_initial_s=0.05, retry_max_s=0.4, endpoints=(
        Endpoint(name="flaky", kind=EndpointKind.WEBHOOK, url=flaky.url, min_severity=Severity.LOW, timeout_s=0.3),
        Endpoint(name="steady", kind=EndpointKind.WEBHOOK, url=steady.url, min_severity=Severity.LOW, timeout_s=2.0),
    ), digest_time="23:59")
    clock = lambda: dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # noqa: E731 - before the digest time
    notifier = Notifier(ledger.path, COUNTY, settings, TZ, clock=clock)
    notifier.start()
    load = Load(ledger)
    phases = [Mode.OK] + [Mode.FAIL, Mode.OK, Mode.HANG, Mode.OK] * 7
    durations: dict[bool, list[float]] = {True: [], False: []}  # healthy or not: seconds per batch
    try:
        load.service.ingest(load.batch(), T0)  # warm-up, not measured
        retried = 0
        for mode in phases:
            flaky.set_mode(mode)
            durations[mode is Mode.OK] += load.phase()
            raised = ledger.conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
            # the healthy endpoint keeps up whatever the other one does
            assert steady.wait_for(lambda r: len(r.accepted) == raised, timeout=30), (len(steady.accepted), raised)
            if mode is Mode.FAIL:
                assert flaky.wait_for(lambda r: r.failed > 0, timeout=10)
            if mode is Mode.HANG:  # the sender gave up on a hung request (timeout) and sent it again
                assert flaky.wait_for(lambda r: r.hung > 0 and sum(r.duplicates.values()) > retried, timeout=10)
                assert len(flaky.accepted) < raised  # it really was stuck while the other endpoint was served
            retried = sum(flaky.duplicates.values())
        flaky.set_mode(Mode.OK)
        total = ledger.conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
        assert flaky.wait_for(lambda r: len(r.accepted) == total, timeout=60), (len(flaky.accepted), total)
    finally:
        notifier.stop()
    assert total == (len(phases) * BATCHES_PER_PHASE + 1) * ALERTS_PER_BATCH
    for receiver, name in [(flaky, "flaky"), (steady, "steady")]:
        expected = keys_routed_to(ledger, name)
        assert len(expected) == total  # one notification per new alert, routed to both endpoints
        assert set(receiver.accepted) == expected and set(receiver.accepted.values()) == {1}
    assert not steady.duplicates and steady.failed == 0
    assert flaky.failed > 0 and flaky.hung > 0  # the script really happened
    assert sum(flaky.duplicates.values()) >= 1  # a hung request was retried: the key made it harmless
    assert ledger.conn.execute(
        "SELECT count(*) FROM notification_deliveries WHERE delivered_at IS NULL").fetchone()[0] == 0
    # Healthy and troubled phases alternate (the ledger grows as the test runs). The lower quartile of each
    # kind's batch times ignores the batches that waited for a CPU on a shared machine, yet moves if the
    # notifier held up most batches.
    healthy, troubled = (BATCH_EVENTS / statistics.quantiles(durations[ok], n=4)[0] for ok in (True, False))
    print(f"ingest events/s: healthy {healthy:.0f}, endpoint failing or hanging {troubled:.0f}")
    assert troubled / healthy >= 0.7, (healthy, troubled)
    ledger.close()


def test_notifications_queued_while_the_endpoint_failed_survive_a_notifier_restart(
        tmp_path: Path, receivers: tuple[Receiver, Receiver]) -> None:
    broken, fixed = receivers
    broken.set_mode(Mode.FAIL)
    ledger = LifecycleLedger(tmp_path / "ledger.db")
    load = Load(ledger)
    load.service.ingest(load.batch(), T0)
    raised = ledger.conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    clock = lambda: dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # noqa: E731

    def notifier(url: str) -> Notifier:
        hook = Endpoint(name="hook", kind=EndpointKind.WEBHOOK, url=url, min_severity=Severity.LOW)
        settings = Notify(poll_s=0.05, retry_initial_s=0.05, retry_max_s=0.2, digest_time="23:59", endpoints=(hook,))
        return Notifier(ledger.path, COUNTY, settings, TZ, clock=clock)

    first = notifier(broken.url)
    first.start()
    assert broken.wait_for(lambda r: r.failed >= 2, timeout=10)
    first.stop()
    assert first.backlog()["hook"] == raised == ALERTS_PER_BATCH and not broken.accepted
    second = notifier(fixed.url)  # the same endpoint (name), its address fixed, after a restart
    second.start()
    try:
        assert fixed.wait_for(lambda r: len(r.accepted) == raised, timeout=30)
    finally:
        second.stop()
    assert set(fixed.accepted.values()) == {1} and not fixed.duplicates
    assert second.backlog().get("hook", 0) == 0
    ledger.close()
