"""Ingest throughput and alert latency on a real Mosquitto with 200 simulated stores.

Prints (one run): `raw_sqlite_rows_per_s` (the events into a bare table, no rules),
`raw_broker_events_per_s` (the messages through Mosquitto to a consumer that does nothing),
`ingest_events_per_s` (publisher -> Mosquitto -> collector -> committed with all rules, on a ledger
that already holds PRELOAD_CODES codes) and `alert_latency_p99_ms` (a duplicate sale published ->
its alert committed, measured on probes sent throughout the load).

The pre-existing ledger and the traffic are built once with bulk inserts and cached under
bench/.cache/ (git-ignored). Sizes are chosen so the whole run fits in two minutes here; see
docs/collector.md ("Benchmark") for why the run is smaller than a million events.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import queue
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from collector.config import Broker, Ingest  # noqa: E402
from collector.ingest.subscriber import Subscriber  # noqa: E402
from collector.ledger_service import LedgerService  # noqa: E402
from collector.rules import RuleSettings  # noqa: E402
from collector.store.sqlite import SQLiteLedger  # noqa: E402
from drugtrace.events import Code, CodeKind, Sale  # noqa: E402
from drugtrace.ids import uuid7  # noqa: E402
from drugtrace.wire import encode_batch, seal  # noqa: E402
from tests.support.mosquitto import MosquittoBroker  # noqa: E402
from tests.support.sample_events import realistic_mix  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
STORES = 200
PRELOAD_CODES = 2_000_000  # codes already in the ledger (received; a quarter also sold)
EVENTS_PER_STORE = 300  # traffic: 200 x 300 = 60,000 events (see docs/collector.md, "Benchmark")
BATCH = 50  # events per MQTT message (an agent's upload batch)
PROBES = 40  # duplicate sales timed from publish to alert commit
COUNTY = "C1"
TZ = dt.timezone(dt.timedelta(hours=8))

_RECEIPT = ('{{"type":"receipt","id":"{id}","store":"{store}","doc":"R{seq}","seq":{seq},"at":"{at}",'
            '"supplier":"s","invoice":"I{seq}","product":"XA01AAA0101",'
            '"code":{{"key":"{code}","kind":"nmpa","product_key":"8123456"}}}}')
_SALE = ('{{"type":"sale","id":"{id}","store":"{store}","doc":"D{seq}","seq":{seq},"at":"{at}","line":1,'
         '"product":"XA01AAA0101","code":{{"key":"{code}","kind":"nmpa","product_key":"8123456"}},"price_fen":1200}}')


def preload_code(i: int) -> str:
    return f"8123456{i:013d}"


def build_preloaded_ledger() -> Path:
    """A ledger with PRELOAD_CODES received codes (a quarter sold), built with bulk inserts, cached."""
    path = CACHE / f"ledger-{PRELOAD_CODES}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    for old in CACHE.glob(tmp.name + "*"):
        old.unlink()
    SQLiteLedger(tmp).close()
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    at = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
    step = 10**6 // 3
    rows = []
    seq = 0
    for i in range(PRELOAD_CODES):
        store = f"S{i % STORES:03d}"
        seq += 1
        when = at + dt.timedelta(microseconds=i * step)
        stamp = when.isoformat(timespec="microseconds")
        code = preload_code(i)
        ident = f"0190{i:028x}"
        rows.append((store, ident, "receipt", code, None, f"R{seq}", seq, stamp, stamp,
                     _RECEIPT.format(id=ident, store=store, seq=seq, at=stamp, code=code).encode()))
        if i % 4 == 0:
            seq += 1
            ident = f"0191{i:028x}"
            rows.append((store, ident, "sale", code, None, f"D{seq}", seq, stamp, stamp,
                         _SALE.format(id=ident, store=store, seq=seq, at=stamp, code=code).encode()))
        if len(rows) >= 200_000:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO events (store, id, type, code, person, doc, seq, at, received_at, body) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
            rows = []
    if rows:
        conn.executemany("INSERT INTO events (store, id, type, code, person, doc, seq, at, received_at, body) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    tmp.rename(path)
    return path


def build_traffic() -> list[tuple[str, bytes, int]]:
    """(topic, payload, events) for 200 stores' realistic days, with 1 % duplicate sales; cached."""
    path = CACHE / f"traffic-{STORES}x{EVENTS_PER_STORE}.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own cache file
    rng = random.Random(5)
    per_store = {}
    for n in range(STORES):
        store = f"S{n:03d}"
        events = realistic_mix(EVENTS_PER_STORE, store=store, seed=n)
        # duplicate sales: a code already sold (preloaded) at another store is sold here again
        for k in range(EVENTS_PER_STORE // 100):
            events[rng.randrange(len(events))] = _probe_sale(store, rng.randrange(0, PRELOAD_CODES, 4) + 0,
                                                             seq=10_000 + k)
        per_store[store] = events
    messages = []
    for start in range(0, EVENTS_PER_STORE, BATCH):  # stores upload interleaved, each in seq order
        for store, events in per_store.items():
            chunk = events[start:start + BATCH]
            messages.append((f"drugtrace/{COUNTY}/{store}/events", encode_batch(store, chunk), len(chunk)))
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(messages))
    return messages


def _probe_sale(store: str, code_index: int, seq: int) -> Sale:
    code = Code(key=preload_code(code_index), kind=CodeKind.NMPA, product_key="8123456")
    return seal(Sale(id=uuid7(), store=store, doc=f"P{seq}", seq=seq, at=dt.datetime.now(TZ), line=1,
                     product="XA01AAA0101", code=code, price_fen=1200))


def raw_sqlite_rate(messages: list[tuple[str, bytes, int]], workdir: Path) -> float:
    """The same events (decoded from the same payloads) into a bare table, 5,000 rows per transaction."""
    from drugtrace.wire import decode_batch, encode_event

    rows = []
    for _topic, payload, _n in messages:
        for event in decode_batch(payload, verify_hash=False).events:
            rows.append((event.store, event.id, encode_event(event)))
    conn = sqlite3.connect(workdir / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE raw (store TEXT, id TEXT, body BLOB)")
    start = time.perf_counter()
    for k in range(0, len(rows), 5000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO raw VALUES (?, ?, ?)", rows[k:k + 5000])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


PUBLISHER = r"""
import pickle, sys, time, json
import paho.mqtt.client as mqtt
port, path, probes_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
messages = pickle.load(open(path, "rb"))
probes = pickle.load(open(probes_path, "rb")) if probes_path != "-" else []
every = max(1, len(messages) // (len(probes) + 1))
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-publisher", protocol=mqtt.MQTTv311)
client.max_inflight_messages_set(200)
client.connect("127.0.0.1", port)
client.loop_start()
sent = []
pending = []
for i, (topic, payload, n) in enumerate(messages):
    pending.append(client.publish(topic, payload, qos=1))
    if probes and i % every == every - 1 and len(sent) < len(probes):
        code, topic, payload = probes[len(sent)]
        sent.append((code, time.time()))
        pending.append(client.publish(topic, payload, qos=1))
    if len(pending) > 2000:
        pending.pop(0).wait_for_publish(60)
for info in pending:
    info.wait_for_publish(60)
client.disconnect()
client.loop_stop()
print(json.dumps(sent))
"""


def publish(port: int, workdir: Path, messages_path: Path, probes_path: str) -> subprocess.Popen[str]:
    script = workdir / "publisher.py"
    script.write_text(PUBLISHER)
    return subprocess.Popen([sys.executable, str(script), str(port), str(messages_path), probes_path],
                            stdout=subprocess.PIPE, text=True)


def raw_broker_rate(port: int, workdir: Path, messages_path: Path, total_events: int, count: int) -> float:
    received: queue.Queue[float] = queue.Queue()
    sizes = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-null", protocol=mqtt.MQTTv311)
    client.on_message = lambda c, u, m: received.put(time.perf_counter())
    ready = threading.Event()
    client.on_subscribe = lambda *a: ready.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe("drugtrace/+/+/events", qos=1)
    ready.wait(10)
    proc = publish(port, workdir, messages_path, "-")
    first = received.get(timeout=60)
    last = first
    for _ in range(count - 1):
        last = received.get(timeout=60)
    proc.wait(60)
    client.disconnect()
    client.loop_stop()
    del sizes
    return total_events / (last - first)


class Timed:
    """The ledger service, noting when each probe sale's transaction committed."""

    def __init__(self, service: LedgerService, probe_codes: set[str]) -> None:
        self.service = service
        self.probe_codes = probe_codes
        self.committed: dict[str, float] = {}
        self.events = 0
        self.first: float | None = None
        self.last = 0.0

    def ingest(self, messages, now):  # type: ignore[no-untyped-def]
        if self.first is None:
            self.first = time.perf_counter()
        outcome = self.service.ingest(messages, now)
        done = time.time()
        self.last = time.perf_counter()
        self.events += outcome.received
        for event in outcome.new:
            if event.code in self.probe_codes and event.type == "sale" and event.doc.startswith("Q"):
                self.committed.setdefault(event.code, done)
        return outcome

    def periodic(self, now):  # type: ignore[no-untyped-def]
        return self.service.periodic(now)


def main() -> None:
    started = time.perf_counter()
    ledger_base = build_preloaded_ledger()
    messages = build_traffic()
    total = sum(n for _, _, n in messages)
    with tempfile.TemporaryDirectory(prefix="drugtrace-bench-") as tmp:
        workdir = Path(tmp)
        messages_path = workdir / "messages.pickle"
        messages_path.write_bytes(pickle.dumps(messages))
        raw_sqlite = raw_sqlite_rate(messages, workdir)
        broker = MosquittoBroker(workdir / "mosquitto", ["max_inflight_messages 1000", "max_queued_messages 0"])
        broker.start()
        try:
            raw_broker = raw_broker_rate(broker.port, workdir, messages_path, total, len(messages))
            # ingest on a copy of the preloaded ledger
            ledger_path = workdir / "ledger.db"
            shutil.copyfile(ledger_base, ledger_path)
            ledger = SQLiteLedger(ledger_path)
            rng = random.Random(11)
            probes = []
            for k in range(PROBES):
                index = rng.randrange(0, PRELOAD_CODES, 4)  # a preloaded code already sold at S{index % 200}
                store = f"S{(index + 1) % STORES:03d}"
                sale = _probe_sale(store, index, seq=20_000 + k)
                sale = seal(Sale(**{**{f: getattr(sale, f) for f in sale.__struct_fields__}, "doc": f"Q{k}",
                                    "hash": ""}))
                probes.append((sale.code.key, f"drugtrace/{COUNTY}/{store}/events", encode_batch(store, [sale])))
            probes_path = workdir / "probes.pickle"
            probes_path.write_bytes(pickle.dumps(probes))
            timed = Timed(LedgerService(ledger, COUNTY, RuleSettings()), {code for code, _, _ in probes})
            settings = Broker(mode="external", port=broker.port, client_id="bench-collector", shared_group="")
            subscriber = Subscriber(timed, settings, "", Ingest(batch_messages=200, commit_interval_ms=100),  # type: ignore[arg-type]
                                    shared=False)
            subscriber.client.username_pw_set(None)
            subscriber.start()
            subscriber.subscribed.wait(10)
            proc = publish(broker.port, workdir, messages_path, str(probes_path))
            out, _ = proc.communicate(timeout=300)
            expected = total + len(probes)
            deadline = time.monotonic() + 300
            while timed.events < expected and time.monotonic() < deadline:
                time.sleep(0.05)
            subscriber.stop()
            import json

            sent = dict(json.loads(out))
            latencies = sorted((timed.committed[code] - at) * 1000 for code, at in sent.items()
                               if code in timed.committed)
            opened = ledger.counts().get("open_alerts", 0)
            ledger.close()
        finally:
            broker.kill()
    ingest = timed.events / (timed.last - (timed.first or timed.last))
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    print(f"preloaded_codes: {PRELOAD_CODES} codes")
    print(f"ingest_events: {timed.events} events")
    print(f"raw_sqlite_rows_per_s: {raw_sqlite:.0f} rows/s")
    print(f"raw_broker_events_per_s: {raw_broker:.0f} events/s")
    print(f"ingest_events_per_s: {ingest:.0f} events/s")
    print(f"ingest_vs_raw_sqlite: {ingest / raw_sqlite:.2f} ratio")
    print(f"alert_latency_p99_ms: {p99:.0f} ms (median {statistics.median(latencies) if latencies else float('nan'):.0f},"
          f" max {max(latencies) if latencies else float('nan'):.0f}, probes {len(latencies)} of {len(sent)})")
    print(f"open_alerts: {opened} alerts")
    print(f"bench_wall_s: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
