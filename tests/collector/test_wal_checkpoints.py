"""Who copies the WAL back: a ledger that leaves checkpoints to another process never does it in its
commits; and a WAL grown by a burst is cut back when it starts over."""

from __future__ import annotations

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


def test_the_wal_file_is_cut_back_once_it_starts_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SQLiteLedger, "WAL_KEEP_BYTES", 1 << 20)
    path = tmp_path / "ledger.db"
    wal = Path(f"{path}-wal")
    ledger = SQLiteLedger(path)
    ledger.leave_checkpoints()
    write_pages(ledger)
    assert wal.stat().st_size > 10 << 20  # about 12 MB
    ledger.conn.execute("PRAGMA wal_checkpoint(RESTART)")  # no reader: everything copied back, the WAL starts over
    with ledger.transaction():
        ledger.conn.execute("INSERT INTO filler VALUES (randomblob(10))")
    assert wal.stat().st_size <= 1 << 20
    ledger.close()
