"""The dashboard's database connections: one per request, closed on teardown; migrations at start."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, g
from sqlite_utils import Database

from collector.alerts.recording import prepare as lifecycle_prepare
from collector.store.sqlite import SQLiteLedger
from collector.web.schema import migrations


def connect(path: Path, *, cache_mib: int = 64) -> sqlite3.Connection:
    """A connection to the ledger file for dashboard reads and the dashboard's own writes."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute(f"PRAGMA cache_size=-{cache_mib * 1024}")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def prepare(path: Path) -> None:
    """Create or upgrade the ledger, then the alert lifecycle's additions, then the dashboard's tables."""
    ledger = SQLiteLedger(path)
    try:
        lifecycle_prepare(ledger)
    finally:
        ledger.close()
    conn = connect(path)
    try:
        migrations.apply(Database(conn))
    finally:
        conn.close()


def get_db() -> sqlite3.Connection:
    """This request's connection."""
    if "dash_db" not in g:
        g.dash_db = connect(Path(current_app.config["LEDGER_PATH"]), cache_mib=current_app.config["DASH_CACHE_MIB"])
    return g.dash_db  # type: ignore[no-any-return]


def close_db(_exc: BaseException | None = None) -> None:
    conn = g.pop("dash_db", None)
    if conn is not None:
        conn.close()


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short write transaction (BEGIN IMMEDIATE), committed on success, rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
