"""Who copies the WAL back: a ledger that leaves checkpoints to another process never does it in its commits."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.store.sqlite import SQLiteLedger


def wal_frames_after_writing(path: Path, *, leave: bool) -> int:
    """Commit about 3,000 pages in 30 transactions; return the frames the WAL then holds."""
    ledger = SQLiteLedger(path)
    if leave:
        ledger.leave_checkpoints()
    ledger.conn.execute("CREATE TABLE filler (x BLOB)")
    for _ in range(30):
        with ledger.transaction():
            ledger.conn.executemany("INSERT INTO filler VALUES (randomblob(4000))", [()] * 100)
    _busy, frames, _copied = ledger.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    ledger.close()
    return frames


@pytest.mark.parametrize("leave", [False, True])
def test_commits_checkpoint_only_unless_left_to_another_process(tmp_path: Path, leave: bool) -> None:
    frames = wal_frames_after_writing(tmp_path / "ledger.db", leave=leave)
    if leave:
        assert frames > 3_000  # every page written is still in the WAL: no commit copied it back
    else:
        assert frames < 1_500  # SQLite's default: a commit past 1,000 pages checkpoints and the WAL restarts
