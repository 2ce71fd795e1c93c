"""The agent's plumbing, measured on real components (pty scanner, SQLite with synchronous=FULL, Mosquitto).

Prints:
- `scan_to_durable_p50_ms`, `scan_to_durable_p99_ms`: bytes written into a pseudo-terminal (the
  serial scanner) -> SerialSource -> CounterService.handle_scan on an open sale -> event committed
  in the outbox (WAL, synchronous=FULL), with the MQTT uplink running. Target p99 < 20 ms.
- `drain_events_per_s`: 100,000 events buffered while the broker was down, drained after it comes
  back, counted (decoded, hashes verified) at a subscriber; median of 3 runs, min-max spread. Target > 5,000.
- `agent_idle_rss_mb`: resident memory of `python -m agent.cli run` with its web server up, idle. Target < 100.

Run: `.venv/bin/python bench/agent.py` (starts its own Mosquitto; about a minute).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec  # noqa: E402
import psutil  # noqa: E402

from agent.catalogue import read_catalogue  # noqa: E402
from agent.config import ScannerConfig  # noqa: E402
from agent.outbox import SqliteOutbox  # noqa: E402
from agent.ports import DocumentRecord  # noqa: E402
from agent.service import CounterService, CounterSettings  # noqa: E402
from agent.sources.profiles import resolve  # noqa: E402
from agent.sources.serial_source import SerialSource  # noqa: E402
from agent.uplink.mqtt import MqttUplink  # noqa: E402
from agent.counter import DocKind  # noqa: E402
from drugtrace.events import AnyEvent  # noqa: E402
from tests.agent.sources.pty_scanner import PtyScanner  # noqa: E402
from tests.agent.uplink.support import (  # noqa: E402
    KEY, Collecting, agent_config, durable_broker, nmpa, write_agent_files,
)
from tests.support.mosquitto import free_port  # noqa: E402
from tests.support.sample_events import realistic_mix  # noqa: E402

SCANS = 400
DRAIN_EVENTS = 100_000
DRAIN_RUNS = 3


class TimedStore:
    """The outbox as the counter sees it, noting when each commit is durable (returned from COMMIT)."""

    def __init__(self, outbox: SqliteOutbox, uplink: MqttUplink) -> None:
        self.outbox = outbox
        self.uplink = uplink
        self.durable: queue.Queue[float] = queue.Queue()

    def commit(self, document: DocumentRecord | None, events: Sequence[AnyEvent]) -> list[AnyEvent]:
        sealed = self.outbox.commit(document, events)
        if events:
            self.durable.put(time.perf_counter())
            self.uplink.wake()
        return sealed

    def open_documents(self):  # type: ignore[no-untyped-def]
        return self.outbox.open_documents()

    def code_state(self, key):  # type: ignore[no-untyped-def]
        return self.outbox.code_state(key)

    def fill_level(self):  # type: ignore[no-untyped-def]
        return self.outbox.fill_level()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scan_to_durable(work: Path) -> list[float]:
    broker = durable_broker(work / "broker")
    subscriber = Collecting(broker.port, client_id="bench-latency")
    scanner = PtyScanner(work / "scanner0")
    config = agent_config(work, broker.port)
    write_agent_files(work, broker.port, free_port(), str(scanner.link))
    outbox = SqliteOutbox(config.outbox_path, store="S001", capacity=10**6)
    uplink = MqttUplink(config, outbox)
    store = TimedStore(outbox, uplink)
    catalogue = read_catalogue(work / "catalogue.csv").catalogue
    service = CounterService(store, catalogue, CounterSettings(store_id="S001", pseudonym_key=KEY.encode()),
                             lambda: dt.datetime.now().astimezone())
    source = SerialSource(resolve(ScannerConfig(name="counter1", profile="generic-rs232", device=str(scanner.link))),
                          service.handle_scan)
    uplink.start()
    source.start()
    try:
        assert source.opened.wait(5)
        doc = service.open_document(DocKind.SALE)
        service.add_line(doc.doc_id, "XA01", quantity=SCANS + 10, price_fen=100)
        while not store.durable.empty():
            store.durable.get()
        latencies = []
        for n in range(1, SCANS + 1):
            start = time.perf_counter()
            scanner.send(nmpa(n).encode() + b"\r\n")
            latencies.append((store.durable.get(timeout=10) - start) * 1000)
        accepted = len(service.document(doc.doc_id).lines[0].codes)
        if accepted != SCANS:
            raise SystemExit(f"expected {SCANS} accepted scans, got {accepted}")
        return latencies
    finally:
        source.stop()
        uplink.stop()
        subscriber.close()
        scanner.close()
        broker.kill()


class Counting:
    """Counts events at a subscriber (batches decoded with hash verification, as the collector does)."""

    def __init__(self, port: int, target: int) -> None:
        from drugtrace.wire import decode_batch
        import paho.mqtt.client as mqtt

        self.target = target
        self.ids: set[str] = set()
        self.done = threading.Event()
        self.failures = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-drain", protocol=mqtt.MQTTv5)
        subscribed = threading.Event()

        def on_message(_c, _u, message):  # type: ignore[no-untyped-def]
            decoded = decode_batch(message.payload)
            self.failures += len(decoded.failures)
            self.ids.update(event.id for event in decoded.events)
            if len(self.ids) >= self.target:
                self.done.set()

        self.client.on_connect = lambda c, *_: c.subscribe("drugtrace/+/+/events", qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise SystemExit("bench subscriber got no SUBACK")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def drain_once(work: Path, events: list[AnyEvent]) -> float:
    config = agent_config(work, free_port(), outbox={"batch_size": 500})
    outbox = SqliteOutbox(config.outbox_path, store="S001", capacity=10**6)
    for start in range(0, len(events), 5000):
        outbox.commit(None, events[start:start + 5000])
    broker = durable_broker(work / "broker")
    counting = Counting(broker.port, len(events))
    uplink = MqttUplink(msgspec.structs.replace(config, mqtt=msgspec.structs.replace(config.mqtt, port=broker.port)),
                        outbox)
    try:
        start = time.perf_counter()
        uplink.start()  # connects and catches up, as after a network outage
        if not counting.done.wait(120):
            raise SystemExit(f"drain incomplete: {len(counting.ids)} of {len(events)}")
        elapsed = time.perf_counter() - start
        if counting.failures:
            raise SystemExit(f"{counting.failures} events failed to decode")
        return len(events) / elapsed
    finally:
        uplink.stop()
        counting.close()
        broker.kill()
        outbox.close()


def idle_rss(work: Path) -> float:
    broker = durable_broker(work / "broker")
    scanner = PtyScanner(work / "scanner0")
    config = write_agent_files(work, broker.port, free_port(), str(scanner.link))
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--config", str(config)], cwd=root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "agent state=started" in line:
                break
        else:
            raise SystemExit("agent did not start")
        threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()  # type: ignore[union-attr]
        threading.Event().wait(3.0)  # let it settle into idle
        return psutil.Process(process.pid).memory_info().rss / (1024 * 1024)
    finally:
        process.terminate()
        process.wait(15)
        scanner.close()
        broker.kill()


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        work = Path(tmp)
        latencies = scan_to_durable(work / "latency")
        print(f"scan_to_durable_p50_ms: {statistics.median(latencies):.2f} ms")
        print(f"scan_to_durable_p99_ms: {percentile(latencies, 0.99):.2f} ms")
        print(f"scan_to_durable_max_ms: {max(latencies):.2f} ms")
        events = realistic_mix(DRAIN_EVENTS)
        rates = [drain_once(work / f"drain{run}", events) for run in range(DRAIN_RUNS)]
        print(f"drain_events_per_s: {statistics.median(rates):.0f} events/s")  # median of DRAIN_RUNS
        print(f"drain_events_per_s_min: {min(rates):.0f} events/s")
        print(f"drain_events_per_s_max: {max(rates):.0f} events/s")
        print(f"agent_idle_rss_mb: {idle_rss(work / 'idle'):.1f} MB")


if __name__ == "__main__":
    main()
