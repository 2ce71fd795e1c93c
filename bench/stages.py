"""Each stage of collector ingest alone on one core, against raw SQLite: what bounds
`ingest_vs_raw_sqlite` (bench/ingest.py) on this machine.

Run with no arguments. Uses bench/ingest.py's cached ledger (3,000,000 codes) and traffic. ROUNDS
times, alternating, on a fresh copy of the ledger each: a sample of SAMPLE_EVENTS of the
throughput traffic's events

- into a bare table (no index, no rules: bench/ingest.py's baseline): `raw_sqlite_rows_per_s`;
- decoded as the decoder process decodes them (`decode_messages`: schema, store, content hash):
  `decode_alone_events_per_s`;
- stored as the ingest writer stores them (`LedgerService.store_decoded`, BATCH_MESSAGES messages
  per transaction, the ledger's indexes and pragmas, its checkpointer thread), nothing else
  running: `store_alone_events_per_s` and `store_alone_vs_raw_sqlite`;
- judged by every rule as the evaluator judges them (`LedgerService.evaluate_pending`, rounds of
  up to 20,000 events, the memory-mapped connection): `judge_alone_events_per_s`.

Each figure is the median of the rounds (min-max given), with the CPU (user + system) per event.
`two_core_bound_events_per_s` is two cores divided by the three stages' CPU per event added up:
what the whole pipeline could reach if it spent nothing on MQTT, pipes and waiting, and kept both
cores busy all the time; `two_core_bound_vs_raw_sqlite` sets it against the same rounds' raw SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import (  # noqa: E402
    CACHE, CACHE_MIB, COUNTY, PUBLISHERS, build_ledger, build_traffic, raw_sqlite_rates,
)
from collector.config import CollectorConfig, Store  # noqa: E402
from collector.ingest.decode import Decoded, Message, decode_messages  # noqa: E402
from collector.ingest.gc_tuning import tune_gc  # noqa: E402
from collector.ledger_service import LedgerService  # noqa: E402
from collector.runner import open_ledger  # noqa: E402

ROUNDS = 3
SAMPLE_EVENTS = 200_000
BATCH_MESSAGES = 200  # [ingest] batch_messages: the burst's transactions


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(work: Callable[[], object], events: int) -> tuple[float, float]:
    """Events per second and CPU µs per event (every thread of this process) of `work()`."""
    cpu, start = _cpu(), time.perf_counter()
    work()
    wall = time.perf_counter() - start
    return events / wall, (_cpu() - cpu) / events * 1e6


def _figure(name: str, rates: list[float], cpu: list[float], unit: str = "events/s") -> str:
    return (f"{name}: {statistics.median(rates):.0f} {unit} (median of {len(rates)} rounds, "
            f"{min(rates):.0f}-{max(rates):.0f}; CPU {statistics.median(cpu):.1f} us/event)")


def main() -> None:
    started = time.perf_counter()
    ledger_base = build_ledger()
    traffic = build_traffic()
    per_share = SAMPLE_EVENTS // 100 // PUBLISHERS
    messages = [m for share in traffic["main"] for m in share[:per_share]]
    events = sum(n for *_, n in messages)
    now = dt.datetime.now(dt.timezone.utc)
    tune_gc()
    figures: dict[str, tuple[list[float], list[float]]] = {
        name: ([], []) for name in ("raw", "decode", "store", "judge")}
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix="drugtrace-stages-", dir=CACHE) as tmp:
            workdir = Path(tmp)
            raw = statistics.median(raw_sqlite_rates(messages, workdir))
            figures["raw"][0].append(raw)
            decoded: list[Decoded] = []

            def decode() -> None:
                decoded.extend(decode_messages([Message(topic, payload, now)], COUNTY)
                               for topic, payload, _ in messages)
            rate, cpu = _timed(decode, events)
            figures["decode"][0].append(rate)
            figures["decode"][1].append(cpu)
            assert sum(len(d.events) for d in decoded) == events and not any(d.quarantine for d in decoded)

            config = CollectorConfig(county=COUNTY, data_dir=str(workdir),
                                     store=Store(path="ledger.db", cache_mib=CACHE_MIB))
            shutil.copyfile(ledger_base, config.path(config.store.path))
            os.sync()  # the copy's writeback must not land inside the measurements
            ledger = open_ledger(config)
            ledger.start_checkpointer()
            writer = LedgerService(ledger, COUNTY, config.rules)

            def store() -> None:
                for k in range(0, len(decoded), BATCH_MESSAGES):
                    batch = Decoded()
                    for part in decoded[k:k + BATCH_MESSAGES]:
                        batch.extend(part)
                    writer.store_decoded(batch, now)
            rate, cpu = _timed(store, events)
            figures["store"][0].append(rate)
            figures["store"][1].append(cpu)
            ledger.close()

            reader = open_ledger(config, mapped=True)  # as the evaluator process opens it
            judge = LedgerService(reader, COUNTY, config.rules)
            assert reader.last_event_rowid() - reader.evaluated_upto() == events

            def evaluate() -> None:
                while judge.evaluate_pending(now).more:
                    pass
            rate, cpu = _timed(evaluate, events)
            figures["judge"][0].append(rate)
            figures["judge"][1].append(cpu)
            assert reader.evaluated_upto() == reader.last_event_rowid()
            reader.close()
    raw_rates = figures["raw"][0]
    stage_cpu = sum(statistics.median(figures[name][1]) for name in ("decode", "store", "judge"))
    bound = 2 / (stage_cpu / 1e6)
    print(f"sample_events: {events} events")
    print(f"raw_sqlite_rows_per_s: {statistics.median(raw_rates):.0f} rows/s (median of {len(raw_rates)} rounds, "
          f"{min(raw_rates):.0f}-{max(raw_rates):.0f})")
    print(_figure("decode_alone_events_per_s", *figures["decode"]))
    print(_figure("store_alone_events_per_s", *figures["store"]))
    ratios = [s / r for s, r in zip(figures["store"][0], raw_rates)]
    print(f"store_alone_vs_raw_sqlite: {statistics.median(ratios):.2f} ratio ({min(ratios):.2f}-{max(ratios):.2f})")
    print(_figure("judge_alone_events_per_s", *figures["judge"]))
    print(f"two_core_bound_events_per_s: {bound:.0f} events/s ({stage_cpu:.1f} us of CPU per event in the three stages)")
    print(f"two_core_bound_vs_raw_sqlite: {bound / statistics.median(raw_rates):.2f} ratio")
    print(f"bench_wall_s: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
