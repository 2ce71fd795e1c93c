"""Notifications: delivery rate to a local webhook, and ingest's rate with the endpoint healthy, down, hanging.

Run with no arguments. Prints one `name: value unit` line per figure (medians of REPEATS runs, with
the spread):

- `notify_delivered_per_s`: ALERTS new alerts already in the outbox -> the notifier (router and
  one sender thread) -> a local http.server webhook on 127.0.0.1, until the receiver has them all;
- `ingest_events_per_s_endpoint_{healthy,down,hanging}`: the real LedgerService on a SQLite ledger
  ingesting batches of 40 codes (5 of them sold at a second store: 5 alerts, 5 notifications per
  batch) while the notifier sends to an endpoint that answers, refuses connections (a closed port)
  or holds every request past the client timeout; the three conditions alternate, and the figure
  is events per second of the median batch;
- `ingest_ratio_{down,hanging}_to_healthy`: those rates divided by the healthy one.
"""

from __future__ import annotations

import datetime as dt
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector.alerts.recording import LifecycleLedger  # noqa: E402
from collector.notify.config import Endpoint, EndpointKind, Notify  # noqa: E402
from collector.notify.worker import Notifier  # noqa: E402
from collector.rules import Severity  # noqa: E402
from tests.collector.helpers import COUNTY, TZ  # noqa: E402
from tests.collector.notify.receiver import Mode, Receiver  # noqa: E402
from tests.collector.notify.test_delivery import ALERTS_PER_BATCH, BATCH_EVENTS, Load  # noqa: E402

ALERTS = 1000
REPEATS = 3
BATCHES = 40  # per condition and repeat
NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=TZ)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(url: str) -> Notify:
    return Notify(poll_s=0.05, retry_initial_s=0.1, retry_max_s=1.0, digest_time="23:59", endpoints=(
        Endpoint(name="hook", kind=EndpointKind.WEBHOOK, url=url, min_severity=Severity.LOW, timeout_s=0.5),))


def delivery_rate(folder: Path, receiver: Receiver) -> float:
    ledger = LifecycleLedger(folder / "delivery.db")
    load = Load(ledger)
    while ledger.conn.execute("SELECT count(*) FROM alerts").fetchone()[0] < ALERTS:
        load.service.ingest(load.batch(), NOON)
    total = ledger.conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    before = len(receiver.accepted)
    notifier = Notifier(ledger.path, COUNTY, settings(receiver.url), TZ, clock=lambda: NOON)
    started = time.perf_counter()
    notifier.start()
    if not receiver.wait_for(lambda r: len(r.accepted) - before >= total, timeout=120):
        raise SystemExit(f"only {len(receiver.accepted) - before} of {total} notifications arrived")
    elapsed = time.perf_counter() - started
    notifier.stop()
    ledger.close()
    return total / elapsed


def ingest_rates(folder: Path, receiver: Receiver) -> dict[str, float]:
    """Median-batch ingest rate per endpoint condition, conditions alternating on one growing ledger."""
    ledger = LifecycleLedger(folder / "ingest.db")
    down = f"http://127.0.0.1:{closed_port()}/hook"
    durations: dict[str, list[float]] = {"healthy": [], "down": [], "hanging": []}
    load = Load(ledger)
    load.service.ingest(load.batch(), NOON)  # warm-up
    for condition in ["healthy", "down", "hanging"] * 2:
        receiver.set_mode(Mode.HANG if condition == "hanging" else Mode.OK)
        notifier = Notifier(ledger.path, COUNTY, settings(down if condition == "down" else receiver.url), TZ,
                            clock=lambda: NOON)
        notifier.start()
        for _ in range(BATCHES // 2):
            batch = load.batch()
            started = time.perf_counter()
            outcome = load.service.ingest(batch, NOON)
            durations[condition].append(time.perf_counter() - started)
            assert outcome.alerts.opened == ALERTS_PER_BATCH
        receiver.set_mode(Mode.OK)
        notifier.stop()
    ledger.close()
    return {name: BATCH_EVENTS / statistics.median(values) for name, values in durations.items()}


def main() -> None:
    receiver = Receiver(hang_s=5.0).start()
    rates: list[float] = []
    ingest: dict[str, list[float]] = {"healthy": [], "down": [], "hanging": []}
    try:
        for _ in range(REPEATS):
            with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
                rates.append(delivery_rate(Path(tmp), receiver))
                for name, rate in ingest_rates(Path(tmp), receiver).items():
                    ingest[name].append(rate)
    finally:
        receiver.stop()

    def spread(values: list[float]) -> str:
        return f"(median of {len(values)}, spread {min(values):.0f}-{max(values):.0f})"

    print(f"notify_delivered_per_s: {statistics.median(rates):.0f} notifications/s {spread(rates)}")
    for name, values in ingest.items():
        print(f"ingest_events_per_s_endpoint_{name}: {statistics.median(values):.0f} events/s {spread(values)}")
    healthy = statistics.median(ingest["healthy"])
    for name in ("down", "hanging"):
        print(f"ingest_ratio_{name}_to_healthy: {statistics.median(ingest[name]) / healthy:.2f} ratio")


if __name__ == "__main__":
    main()
