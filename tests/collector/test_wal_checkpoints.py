"""Who copies the WAL back: a ledger that leaves checkpoints to another process never does it in its
commits; and a WAL grown by a burst is cut back by the checkpointer once ingest is idle, never in a commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.store.sqlite import SQLiteLedger
from tests.support.waiting import wait_until


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


@pytest.fixture
def grown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SQLiteLedger, Path]]:
    """A ledger whose WAL a burst grew to about 12 MB, twelve times WAL_KEEP_BYTES; and the WAL's path."""
    monkeypatch.setattr(SQLiteLedger, "WAL_KEEP_BYTES", 1 << 20)
    path = tmp_path / "ledger.db"
    ledger = SQLiteLedger(path)
    ledger.leave_checkpoints()
    write_pages(ledger)
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 10 << 20
    yield ledger, wal
    ledger.close()


def test_no_commit_cuts_the_wal_file_back(grown: tuple[SQLiteLedger, Path]) -> None:
    """Truncating a WAL grown by a burst takes seconds (3 s for 3.7 GB): the first commit after the
    WAL starts over must not do it while every other writer waits."""
    ledger, wal = grown
    size = wal.stat().st_size
    ledger.conn.execute("PRAGMA wal_checkpoint(RESTART)")  # no reader: everything copied back, the WAL starts over
    with ledger.transaction():
        ledger.conn.execute("INSERT INTO filler VALUES (randomblob(10))")
    assert wal.stat().st_size == size


def test_the_checkpointer_cuts_the_wal_file_back_once_ingest_is_idle(grown: tuple[SQLiteLedger, Path]) -> None:
    ledger, wal = grown
    ledger.start_checkpointer(interval_s=0.02)
    wait_until(lambda: wal.stat().st_size <= 1 << 20, 30, "the checkpointer to cut the WAL file back", poll_s=0.02)
    with ledger.transaction():  # the ledger goes on as before
        ledger.conn.execute("INSERT INTO filler VALUES (randomblob(10))")
    assert ledger.conn.execute("SELECT count(*) FROM filler").fetchone()[0] == 3_001
