"""Who copies the WAL back: a ledger that leaves checkpoints to another process never does it in its
commits; and a WAL grown by a burst is cut back by the checkpointer once ingest is idle, never in a commit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from collector.store.sqlite import SQLiteLedger


def write_pages(ledger: SQLiteLedger) -> int:
    """Commit about 3,000 pages in 30 transactions; return the frames the WAL then holds."""
    ledger.conn.execute("CREATE TABLE filler (x BLOB)")
    for _ in range(30):
        with ledger.transaction():
            ledger.conn.executemany("INSERT INTO filler VALUES (randomblob(4000))", [()] * 100)
    _busy, frames, _copied = ledger.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return frames


@pytest.mark.parametrize("leave", [False, True])
def test_commits_checkpoint_only_unless_left_to_another_process(tmp_path: Path, leave: bool) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    if leave:
        ledger.leave_checkpoints()
    frames = write_pages(ledger)
    ledger.close()
    if leave:
        assert frames > 3_000  # every page written is still in the WAL: no commit copied it back
    else:
        assert frames < 1_500  # SQLite's default: a commit past 1,000 pages checkpoints and the WAL restarts


def test_no_commit_cuts_the_wal_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Truncating a WAL grown by a burst takes seconds (3 s for 3.7 GB): the first commit after the
    WAL starts over must not do it while every other writer waits."""
    monkeypatch.setattr(SQLiteLedger, "WAL_KEEP_BYTES", 1 << 20)
    path = tmp_path / "ledger.db"
    wal = Path(f"{path}-wal")
    ledger = SQLiteLedger(path)
    ledger.leave_checkpoints()
    write_pages(ledger)
    grown = wal.stat().st_size
    assert grown > 10 << 20  # about 12 MB
    ledger.conn.execute("PRAGMA wal_checkpoint(RESTART)")  # no reader: everything copied back, the WAL starts over
    with ledger.transaction():
        ledger.conn.execute("INSERT INTO filler VALUES (randomblob(10))")
    assert wal.stat().st_size == grown
    ledger.close()


def test_the_checkpointer_cuts_the_wal_file_back_once_ingest_is_idle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SQLiteLedger, "WAL_KEEP_BYTES", 1 << 20)
    path = tmp_path / "ledger.db"
    wal = Path(f"{path}-wal")
    ledger = SQLiteLedger(path)
    ledger.leave_checkpoints()
    write_pages(ledger)
    assert wal.stat().st_size > 10 << 20
    ledger.start_checkpointer(interval_s=0.02)
    deadline = time.monotonic() + 30
    while wal.stat().st_size > 1 << 20:  # polled: the file's size has no event to wait on
        assert time.monotonic() < deadline, f"WAL still {wal.stat().st_size} bytes"
        time.sleep(0.02)
    with ledger.transaction():  # the ledger goes on as before
        ledger.conn.execute("INSERT INTO filler VALUES (randomblob(10))")
    assert ledger.conn.execute("SELECT count(*) FROM filler").fetchone()[0] == 3_001
    ledger.close()
