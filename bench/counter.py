"""The POS API at the counter: a scan sent over HTTP until its event is durable (synchronous=FULL).

Starts the agent's web app under waitress on loopback, over a real SqliteOutbox in a temporary
folder, and plays sales through the POS API with one keep-alive HTTP client: open a sale, add a
line of 3 boxes, scan 3 codes, ask "may I settle?", settle with insurance. Each answer comes back
only after the document change and its event were committed.

Prints `pos_scan_p50_ms`, `pos_scan_p99_ms` (HTTP round trip of POST .../scans), `pos_settle_p50_ms`
and `pos_sales_per_s`: medians of 3 runs with the min-max spread.
"""

from __future__ import annotations

import datetime as dt
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from waitress.server import create_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.catalogue import Catalogue, Product  # noqa: E402
from agent.outbox import SqliteOutbox  # noqa: E402
from agent.service import CounterService, CounterSettings  # noqa: E402
from agent.web import WebSettings, create_app  # noqa: E402

RUNS = 3
SALES = 150
TOKEN = "bench-token-0123456789abcdef"
PRODUCT = Product("XA01AAA0101", "阿莫西林胶囊", ("8123456",), True, units_per_box=24)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_once(folder: Path, run: int) -> tuple[list[float], list[float], float]:
    outbox = SqliteOutbox(folder / f"outbox-{run}.sqlite", store="S001", capacity=10_000_000)
    service = CounterService(outbox, Catalogue.of([PRODUCT]), CounterSettings("S001", b"bench-county-key-0123"),
                             lambda: dt.datetime.now().astimezone())
    port = _free_port()
    server = create_server(create_app(service, WebSettings(token=TOKEN)), host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}/api/v1"
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    scans: list[float] = []
    settles: list[float] = []
    serial = 0
    start = time.perf_counter()
    try:
        for sale in range(SALES):
            doc = http.post(f"{base}/documents", json={"kind": "sale"}).json()["document"]["doc_id"]
            http.post(f"{base}/documents/{doc}/lines", json={"product": PRODUCT.product_id, "quantity": 3,
                                                             "price_fen": 1500}).raise_for_status()
            for _ in range(3):
                serial += 1
                code = f"8123456{run:03d}{serial:010d}"
                t0 = time.perf_counter()
                response = http.post(f"{base}/documents/{doc}/scans", json={"raw": code})
                scans.append((time.perf_counter() - t0) * 1000)
                assert response.json()["outcome"]["accepted"], response.text
            assert http.get(f"{base}/documents/{doc}/settle-check").json()["allowed"]
            t0 = time.perf_counter()
            settled = http.post(f"{base}/documents/{doc}/settlement", json={
                "setl_id": f"SETL-{run}-{sale}", "payment": "insurance", "total_fen": 4500, "fund_fen": 3000,
                "psn_no": f"4201{sale:014d}"})
            settles.append((time.perf_counter() - t0) * 1000)
            assert settled.status_code == 200, settled.text
        elapsed = time.perf_counter() - start
        assert outbox.fill_level().depth == SALES * 4  # 3 sales + 1 settlement each: every one durable
    finally:
        server.close()
        thread.join(timeout=10)
        outbox.close()
    return scans, settles, SALES / elapsed


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _figure(name: str, values: list[float], unit: str, digits: int = 2) -> None:
    print(f"{name}: {statistics.median(values):.{digits}f} {unit} "
          f"(median of {len(values)} runs, {min(values):.{digits}f}-{max(values):.{digits}f})")


def main() -> None:
    p50s, p99s, settle_p50s, rates = [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(RUNS):
            scans, settles, rate = run_once(Path(folder), run)
            p50s.append(statistics.median(scans))
            p99s.append(_quantile(scans, 0.99))
            settle_p50s.append(statistics.median(settles))
            rates.append(rate)
    _figure("pos_scan_p50_ms", p50s, "ms")
    _figure("pos_scan_p99_ms", p99s, "ms")
    _figure("pos_settle_p50_ms", settle_p50s, "ms")
    _figure("pos_sales_per_s", rates, "sales/s", 1)


if __name__ == "__main__":
    main()
