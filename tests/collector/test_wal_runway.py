"""The WAL runway: zeros written past a growing WAL's end, only while holding the write lock, that
later commits overwrite — and that SQLite's recovery reads as the end of the log."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.store.sqlite import SQLiteLedger
from collector.store.wal_runway import extend_runway, wal_end
from tests.support.waiting import wait_until

MIB = 1 << 20


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SQLiteLedger]:
    """A ledger whose commits never copy the WAL back (another process's checkpointer would)."""
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    ledger.leave_checkpoints()
    ledger.conn.execute("CREATE TABLE filler (n INTEGER, x BLOB)")
    yield ledger
    ledger.close()


def fill(ledger: SQLiteLedger, rows: int, first: int = 0) -> None:
    with ledger.transaction():
        ledger.conn.executemany("INSERT INTO filler VALUES (?, randomblob(3000))", [(first + n,) for n in range(rows)])


def content_end(path: Path) -> int:
    """Where the WAL's valid frames end, as SQLite counts them."""
    with sqlite3.connect(path, isolation_level=None) as other:
        page_size = other.execute("PRAGMA page_size").fetchone()[0]
        _busy, frames, _copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    other.close()
    return wal_end(frames, page_size)


@pytest.fixture
def turn(tmp_path: Path) -> Iterator[int]:
    fd = os.open(tmp_path / "ledger.db-writer.lock", os.O_RDWR | os.O_CREAT)
    yield fd
    os.close(fd)


@pytest.fixture
def runway_conn(ledger: SQLiteLedger) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(ledger.path, isolation_level=None, timeout=0.0)
    yield conn
    conn.close()


@pytest.fixture
def reader(ledger: SQLiteLedger) -> Iterator[sqlite3.Connection]:
    """A reader in a snapshot (as the evaluator is through a round): the WAL cannot start over, it grows."""
    reader = sqlite3.connect(ledger.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    yield reader
    reader.close()


def test_commits_overwrite_the_runway_and_recovery_reads_them_all(
        ledger: SQLiteLedger, turn: int, runway_conn: sqlite3.Connection, tmp_path: Path,
        reader: sqlite3.Connection) -> None:
    fill(ledger, 300)
    wal = Path(f"{ledger.path}-wal")
    end = content_end(ledger.path)
    assert wal.stat().st_size == end  # SQLite appends: the file ends where its frames do

    written = extend_runway(runway_conn, wal, turn, end, runway=4 * MIB, step=MIB)

    assert written == 4 * MIB and wal.stat().st_size == end + 4 * MIB
    fill(ledger, 300, first=300)  # about 1 MB of frames
    assert content_end(ledger.path) > end + MIB
    assert wal.stat().st_size == end + 4 * MIB  # written over the runway, not appended
    # a crash now: the files as they are, zeros after the last frame, opened elsewhere
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(ledger.path, copy / "ledger.db")
    shutil.copyfile(wal, copy / "ledger.db-wal")
    with sqlite3.connect(copy / "ledger.db") as recovered:
        assert recovered.execute("SELECT count(*), sum(n) FROM filler").fetchone() == (600, sum(range(600)))
        assert recovered.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    recovered.close()


def test_no_runway_while_a_writer_that_takes_no_turn_holds_the_lock(
        ledger: SQLiteLedger, turn: int, runway_conn: sqlite3.Connection) -> None:
    fill(ledger, 10)
    wal = Path(f"{ledger.path}-wal")
    size = wal.stat().st_size
    other = sqlite3.connect(ledger.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. the command line, which takes no turn
    try:
        assert extend_runway(runway_conn, wal, turn, content_end(ledger.path), runway=MIB) == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert wal.stat().st_size == size


def test_a_missing_wal_is_not_created(ledger: SQLiteLedger, turn: int, runway_conn: sqlite3.Connection,
                                      tmp_path: Path) -> None:
    assert extend_runway(runway_conn, tmp_path / "gone.db-wal", turn, 4096, runway=MIB) == 0
    assert not (tmp_path / "gone.db-wal").exists()


def test_the_checkpointer_keeps_a_runway_while_a_reader_holds_the_wal(
        ledger: SQLiteLedger, reader: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader's snapshot (the evaluator's) keeps the WAL from starting over, so commits grow it:
    the checkpointer keeps it written ahead; once the reader is gone and commits stop, it is cut back."""
    monkeypatch.setattr(SQLiteLedger, "WAL_KEEP_BYTES", MIB)
    monkeypatch.setattr(SQLiteLedger, "WAL_RUNWAY_BYTES", 4 * MIB)
    wal = Path(f"{ledger.path}-wal")
    fill(ledger, 400)  # past WAL_KEEP_BYTES
    ledger.start_checkpointer(interval_s=0.02)
    rows = 400

    def ahead() -> bool:
        nonlocal rows
        fill(ledger, 10, first=rows)  # commits keep coming
        rows += 10
        return wal.stat().st_size >= content_end(ledger.path) + 3 * MIB

    wait_until(ahead, 30, "the checkpointer to write the WAL ahead of its end", poll_s=0.02)
    reader.execute("COMMIT")  # the snapshot ends
    wait_until(lambda: wal.stat().st_size <= MIB, 30, "the checkpointer to cut the WAL file back", poll_s=0.02)
    assert ledger.conn.execute("SELECT count(*), sum(n) FROM filler").fetchone() == (rows, sum(range(rows)))
