"""Cost of the code rules (DOMAIN §4 rules 1-8) on one core, as ingest calls them.

Ingest re-evaluates a code from its whole history whenever an event of it arrives, so what
matters is `evaluate_code` on realistic histories of a few events: receipt then sale (most
codes), receipts not yet sold, split packs, returns and resales, late receipts, and the odd
duplicate. Prints (medians of 7 runs, with min-max spread):

- `evaluate_code_per_s`: calls per second on that mix (with the settlements of the sales);
- `evaluate_code_events_per_s`: history events judged per second on that mix;
- `evaluate_code_long_history_per_s`: calls per second on a cloned code sold 1,000 times at
  20 stores (a history the alerts make long), showing the cost grows with the history, not its square.

Target: evaluate_code must not be what holds ingest under 20,000 events/s.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector.rules import evaluate_code  # noqa: E402
from drugtrace.events import Payment, Settlement  # noqa: E402
from tests.collector.rules.builders import receipt, sale, sale_return, settlement, t  # noqa: E402

RUNS = 7
HISTORIES = 20_000
NOW = t(days=60)


def _history(rng: random.Random, n: int) -> tuple[str, list, list[Settlement]]:
    code = f"8123456{n:013d}"
    store = f"S{rng.randint(1, 200):03d}"
    start = rng.uniform(0, 20)
    roll = rng.random()
    events: list = []
    paid: list[Settlement] = []

    def sell(eid: str, at: dt.datetime, doc: str, where: str = store, **kw: object) -> None:
        events.append(sale(eid, where, at, doc, code=code, **kw))
        payment = Payment.INSURANCE if rng.random() < 0.7 else Payment.SELF_PAY
        paid.append(settlement(f"{eid}-st", where, at + dt.timedelta(seconds=40), doc, payment=payment))

    events.append(receipt(f"{n}-r", store, t(days=start), code=code))
    if roll < 0.60:
        sell(f"{n}-s", t(days=start + rng.uniform(1, 30)), f"D{n}")
    elif roll < 0.75:
        pass  # still on the shelf
    elif roll < 0.85:
        for i in range(rng.randint(2, 4)):
            sell(f"{n}-s{i}", t(days=start + 1 + i), f"D{n}-{i}", split=(rng.randint(1, 6), 24))
    elif roll < 0.90:
        sell(f"{n}-s", t(days=start + 1), f"D{n}")
        events.append(sale_return(f"{n}-x", store, t(days=start + 2), f"D{n}", code=code))
        sell(f"{n}-s2", t(days=start + 20), f"E{n}")
    elif roll < 0.95:
        events.pop()  # sold first, receipt scanned a day late
        sell(f"{n}-s", t(days=start), f"D{n}")
        events.append(receipt(f"{n}-r", store, t(days=start + 1), code=code))
    elif roll < 0.98:
        sell(f"{n}-s", t(days=start + 1), f"D{n}")
        sell(f"{n}-s2", t(days=start + 3), f"E{n}", where=f"S{rng.randint(201, 400)}")
    else:
        events.append(receipt(f"{n}-r2", f"S{rng.randint(201, 400)}", t(days=start + 2), code=code))
    rng.shuffle(events)  # ingest hands histories over in storage order, not time order
    return code, events, paid


def _long_history() -> tuple[str, list, list[Settlement]]:
    code = "81234569999999999999"
    rng = random.Random(9)
    events, paid = [], []
    for i in range(1000):
        store, at = f"S{rng.randint(1, 20):03d}", t(days=i / 50)
        events.append(sale(f"L{i}", store, at, f"D{i}", code=code))
        paid.append(settlement(f"L{i}-st", store, at + dt.timedelta(seconds=40), f"D{i}"))
    return code, events, paid


def _rate(histories: list, count_events: bool) -> float:
    start = time.perf_counter()
    judged = 0
    for code, events, by_doc in histories:
        evaluate_code(events, by_doc, NOW, code=code)
        judged += len(events) if count_events else 1
    return judged / (time.perf_counter() - start)


def report(name: str, rates: list[float], unit: str) -> None:
    spread = f"(min {min(rates):.0f}, max {max(rates):.0f}, runs {len(rates)})"
    print(f"{name}: {statistics.median(rates):.0f} {unit} {spread}")


def main() -> None:
    rng = random.Random(4)
    histories = []
    for n in range(HISTORIES):
        code, events, paid = _history(rng, n)
        histories.append((code, events, {(s.store, s.doc): s for s in paid}))
    code, events, paid = _long_history()
    long = [(code, events, {(s.store, s.doc): s for s in paid})] * 5
    report("evaluate_code_per_s", [_rate(histories, False) for _ in range(RUNS)], "calls/s")
    report("evaluate_code_events_per_s", [_rate(histories, True) for _ in range(RUNS)], "events/s")
    report("evaluate_code_long_history_per_s", [_rate(long, False) for _ in range(RUNS)], "calls/s")


if __name__ == "__main__":
    main()
