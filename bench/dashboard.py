"""Dashboard page latency on a year of a county: 300 stores, 20 million events, 200,000 alerts.

Prints `overview_p95_ms`, `alerts_p95_ms` and `code_lookup_p95_ms` (and their medians and
spread): full HTTP requests of a signed-in viewer to the dashboard served by waitress on
loopback, as `drugtrace-collector run` serves it. The alert figure mixes the queue's filters and
sort orders and keyset pages deep into the queue; the code lookup picks random codes.

The database is generated once, set-based (a recursive CTE per million rows, indexes built after
the load, the daily aggregates by the dashboard's own incremental job) and cached in
bench/.cache/ (git-ignored); the first generation took 20 minutes here (docs/dashboard.md).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from collector.web import aggregates, create_app  # noqa: E402
from collector.web.accounts import Role, add_user  # noqa: E402
from collector.web.db import connect, prepare  # noqa: E402
from collector.web.serve import WebServer  # noqa: E402

STORES = 300
EVENTS = 20_000_000
ALERTS = 200_000
OPEN_ALERTS = 20_000
VERSION = "3"  # bump when the generated data changes
CACHE = ROOT / "bench" / ".cache"
DB = CACHE / f"dashboard-v{VERSION}.db"
END = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)  # the newest event; the bench's "now"
START = END - dt.timedelta(days=365)
STEP_US = int((END - START).total_seconds() * 1_000_000 // EVENTS)  # store time advances this much per event
PASSWORD = "bench-password-1"
CHUNK = 1_000_000

# Event n: store (n + n / 20) % 300; within each block of 20 events (b = n / 20): 6 receipts, 6 coded sales of boxes
# received ~1000 blocks earlier, 3 exempt sales, 4 settlements (one box of two uncoded in 1 of 8), 1 heartbeat.
_EVENTS_SQL = """
WITH RECURSIVE seq(n) AS (SELECT ?1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?2),
rows AS (
  SELECT n, n / 20 AS b, n % 20 AS p, 'S' || printf('%03d', (n + n / 20) % 300) AS store, n / 300 + 1 AS sq,
         printf('%012x-7000-8000-%012x', n, n) AS eid,
         strftime('%Y-%m-%dT%H:%M:%S', ?3 + (n * ?4) / 1000000, 'unixepoch')
           || printf('.%06d+00:00', (n * ?4) % 1000000) AS at
  FROM seq),
typed AS (
  SELECT *, CASE WHEN p < 6 THEN 'receipt' WHEN p < 15 THEN 'sale' WHEN p < 19 THEN 'settlement'
                 ELSE 'heartbeat' END AS type,
         CASE WHEN p < 6 THEN '8' || printf('%019d', b * 6 + p)
              WHEN p < 12 AND b >= 1000 THEN '8' || printf('%019d', (b - 1000) * 6 + p - 6) END AS code
  FROM rows)
INSERT INTO events (rowid, store, id, type, code, person, doc, seq, at, received_at, body)
SELECT n + 1, store, eid, type, code, CASE WHEN type = 'settlement' THEN 'P' || printf('%06d', (n * 7919) % 400000) END,
       CASE WHEN type = 'heartbeat' THEN '' ELSE 'D' || b END, sq, at, at,
       CAST(CASE type
         WHEN 'receipt' THEN json_object('type', 'receipt', 'v', 1, 'id', eid, 'store', store, 'doc', 'D' || b,
              'seq', sq, 'at', at, 'hash', '', 'supplier', '国药控股', 'invoice', 'INV' || b, 'product', 'XA01',
              'code', json_object('key', code, 'kind', 'nmpa', 'product_key', substr(code, 1, 7), 'batch', NULL,
                                  'expiry', NULL, 'pack', 'box'), 'quantity', 1, 'contains', json_array())
         WHEN 'sale' THEN json_object('type', 'sale', 'v', 1, 'id', eid, 'store', store, 'doc', 'D' || b, 'seq', sq,
              'at', at, 'hash', '', 'line', 1, 'product', 'XA01',
              'code', CASE WHEN code IS NULL THEN NULL ELSE json_object('key', code, 'kind', 'nmpa',
                   'product_key', substr(code, 1, 7), 'batch', NULL, 'expiry', NULL, 'pack', 'box') END,
              'price_fen', 1200, 'trdn_flag', 0, 'units', 1, 'units_per_box', 1, 'rx', json('false'))
         WHEN 'settlement' THEN json_object('type', 'settlement', 'v', 1, 'id', eid, 'store', store, 'doc', 'D' || b,
              'seq', sq, 'at', at, 'hash', '', 'setl_id', 'SETL' || n, 'payment', 'insurance', 'total_fen', 2400,
              'fund_fen', 2000, 'person', 'P' || printf('%06d', (n * 7919) % 400000),
              'lines', json_array(json_object('line', 1, 'product', 'XA01', 'quantity', 2, 'boxes_required', 2,
                  'codes', CASE WHEN b % 8 = 0 THEN 1 ELSE 2 END, 'exempt', json('false'),
                  'overridden', json('false'))))
         ELSE json_object('type', 'heartbeat', 'v', 1, 'id', eid, 'store', store, 'doc', '', 'seq', sq, 'at', at,
              'hash', '', 'version', '0.1.0', 'outbox_depth', n % 17, 'outbox_capacity', 100000,
              'last_upload', at, 'scanners', json_array(), 'cameras', json_array())
       END AS BLOB)
FROM typed
"""

_RULES = [("sold_twice_same_store", "high"), ("sold_at_two_stores", "critical"), ("no_provenance", "medium"),
          ("received_twice", "high"), ("product_mismatch", "medium"), ("collection_gap", "medium"),
          ("store_silent", "medium"), ("clock_skew", "low")]


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def generate(path: Path) -> None:
    """Build the database at `path` (minutes: see the module docstring)."""
    began = time.monotonic()
    partial = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    prepare(partial)
    conn = connect(partial, cache_mib=512)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    indexes = [sql for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL")]
    names = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL")]
    for name in names:
        conn.execute(f"DROP INDEX {name}")
    start_s = int(START.timestamp())
    for first in range(0, EVENTS, CHUNK):
        conn.execute("BEGIN")
        conn.execute(_EVENTS_SQL, (first, min(first + CHUNK, EVENTS) - 1, start_s, STEP_US))
        conn.execute("COMMIT")
        print(f"generated {first + CHUNK:,} events ({time.monotonic() - began:.0f} s)", file=sys.stderr)
    for sql in indexes:
        conn.execute(sql)
        print(f"index built ({time.monotonic() - began:.0f} s): {sql[:60]}", file=sys.stderr)
    _alerts(conn)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO store_health (store, heartbeat, at, received_at) SELECT store, max(rowid), max(at), "
                 "max(received_at) FROM events WHERE type = 'heartbeat' AND rowid > ? GROUP BY store",
                 (EVENTS - 20 * STORES * 4,))
    conn.execute("INSERT INTO store_status (store, state, at, received_at) SELECT store, CASE WHEN store < 'S290' "
                 "THEN 'online' ELSE 'offline' END, at, received_at FROM store_health")
    add_user(conn, "viewer", PASSWORD, Role.VIEWER, END)
    conn.execute("COMMIT")
    aggregates.refresh_all(conn, 480, step=2_000_000)
    print(f"aggregates ({time.monotonic() - began:.0f} s)", file=sys.stderr)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    partial.rename(path)
    print(f"generation took {time.monotonic() - began:.0f} s", file=sys.stderr)


def _alerts(conn: sqlite3.Connection) -> None:
    """ALERTS alerts over the year, the last OPEN_ALERTS still open, two evidence events each."""
    rng = random.Random(6)
    rows, evidence = [], []
    span = (END - START).total_seconds()
    for number in range(1, ALERTS + 1):
        rule, severity = _RULES[rng.randrange(len(_RULES))]
        first = START + dt.timedelta(seconds=span * number / ALERTS)
        stores = sorted({f"S{rng.randrange(STORES):03d}" for _ in range(2 if rule == "sold_at_two_stores" else 1)})
        code = f"8{rng.randrange(EVENTS // 20 * 6):019d}"
        is_open = number > ALERTS - OPEN_ALERTS
        status = "new" if is_open else rng.choice(["confirmed", "dismissed", "withdrawn"])
        state = "open" if is_open else ("withdrawn" if status == "withdrawn" else "closed")
        rows.append((number, rule, "code", f"{code}:{number}", state, status, severity, _json(stores), code,
                     f"generated alert {number}", _stamp(first), _stamp(first + dt.timedelta(hours=1))))
        event = rng.randrange(EVENTS)
        evidence.extend([(number, f"{event:012x}-7000-8000-{event:012x}"),
                         (number, f"{event + 1:012x}-7000-8000-{event + 1:012x}")])
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO alerts (id, rule, scope, subject, state, status, severity, stores, code, detail, "
                     "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO alert_evidence (alert, event) VALUES (?, ?)", evidence)
    conn.execute("COMMIT")


def _json(stores: list[str]) -> str:
    return "[" + ",".join(f'"{s}"' for s in stores) + "]"


def ensure() -> Path:
    if DB.exists():
        return DB
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("dashboard-v*.db*"):
        old.unlink()
    generate(DB)
    return DB


def measure(session: requests.Session, base: str, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        began = time.perf_counter()
        response = session.get(base + path, timeout=60)
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"Expected 200 from {path}, got {response.status_code}: {response.text[:300]}")
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def report(name: str, values: list[float]) -> None:
    print(f"{name}_p95_ms: {p95(values):.1f} ms")
    print(f"{name}_median_ms: {statistics.median(values):.1f} ms")
    print(f"{name}_spread_ms: {min(values):.1f}-{max(values):.1f} ms (n={len(values)})")


def main() -> None:
    path = ensure()
    work = CACHE / "run"
    shutil.rmtree(work, ignore_errors=True)
    app = create_app({"LEDGER_PATH": str(path), "DASH_CLOCK": lambda: END + dt.timedelta(minutes=5),
                      "DASH_COUNTY": "bench", "SECRET_KEY": "bench"})
    server = WebServer(app, "127.0.0.1", 0, refresh_seconds=3600).start()
    base = f"http://127.0.0.1:{server.server_port}"
    session = requests.Session()
    page = session.get(base + "/login", timeout=60).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    session.post(base + "/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token}, timeout=60)
    rng = random.Random(7)
    measure(session, base, ["/", "/alerts/", "/codes/?code=80000000000000000001"])  # warm the process, not the data
    overview = measure(session, base, ["/"] * 40)
    deep = [rng.randrange(1, ALERTS) for _ in range(8)]
    alert_paths = (["/alerts/", "/alerts/?status=&sort=newest", "/alerts/?status=&sort=last_seen",
                    "/alerts/?rule=sold_at_two_stores", "/alerts/?status=&rule=no_provenance&sort=oldest",
                    "/alerts/?status=&severity=critical", "/alerts/?status=closed",
                    "/alerts/?status=&from=2026-06-01&to=2026-06-30&sort=newest"]
                   + [f"/alerts/?status=&store=S{rng.randrange(STORES):03d}&sort=newest" for _ in range(8)]
                   + [f"/alerts/?status=&sort=severity&after={n}" for n in deep]
                   + [f"/alerts/{rng.randrange(1, ALERTS)}" for _ in range(16)])
    alerts = measure(session, base, alert_paths * 2)
    codes = [f"8{rng.randrange(EVENTS // 20 * 6):019d}" for _ in range(100)]
    lookups = measure(session, base, [f"/codes/?code={code}" for code in codes])
    server.shutdown()
    report("overview", overview)
    report("alerts", alerts)
    report("code_lookup", lookups)
    print(f"events_in_database: {EVENTS} events")


if __name__ == "__main__":
    main()
