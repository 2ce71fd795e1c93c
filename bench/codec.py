"""Wire-format throughput on one core: encode, decode+validate, and code classification.

Prints `encode_events_per_s`, `decode_events_per_s` and `classify_codes_per_s` (medians of
7 runs, with min-max spread). Target: over 100,000 events per second each way.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drugtrace.codes import GS, classify  # noqa: E402
from drugtrace.wire import decode_event, encode_event  # noqa: E402
from tests.support.sample_events import realistic_mix  # noqa: E402

RUNS = 7


def rate(fn, items) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def report(name: str, rates: list[float], unit: str) -> None:
    print(f"{name}: {statistics.median(rates):.0f} {unit} (min {min(rates):.0f}, max {max(rates):.0f}, runs {len(rates)})")


def main() -> None:
    events = realistic_mix(50_000)
    blobs = [encode_event(e) for e in events]
    rng = random.Random(3)
    codes = []
    for _ in range(20_000):
        roll = rng.random()
        if roll < 0.7:
            codes.append("8" + "".join(rng.choices("0123456789", k=19)))
        elif roll < 0.9:
            codes.append(f"]d20109501101530003172612311025A{rng.randint(1, 99)}{GS}21S{rng.randint(1, 10**9)}")
        else:
            codes.append("6901234567892")
    report("encode_events_per_s", [rate(encode_event, events) for _ in range(RUNS)], "events/s")
    report("decode_events_per_s", [rate(decode_event, blobs) for _ in range(RUNS)], "events/s")
    report("classify_codes_per_s", [rate(classify, codes) for _ in range(RUNS)], "codes/s")


if __name__ == "__main__":
    main()
