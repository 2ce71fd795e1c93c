"""Keep a growing WAL file allocated and cached ahead of its end (a runway), so that commits
write over cached pages instead of extending the file.

While the evaluator's snapshots keep the WAL from starting over, every commit appends to it. A
frame (24 + 4,096 bytes) written past the file's end costs the kernel a new page-cache page and
zeroing the parts of two blocks the write does not cover: in bench/ingest.py's burst that zeroing
was half of the ingest writer's `pwrite` time. The runway is zeros (allocated, read into the cache,
never written to the disk); SQLite's recovery stops at the first frame that fails its checks, so
zeros past the last frame read as the end of the log. It is added only while holding SQLite's
write lock, when no frame can be on its way to that place.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

RUNWAY_BYTES = 512 << 20  # kept past the WAL's content (a burst appends about 100 MB/s)
STEP_BYTES = 128 << 20  # added per writers' turn taken


def wal_end(frames: int, page_size: int) -> int:
    """Where the WAL's content ends: its 32-byte header and `frames` frames."""
    return 32 + frames * (24 + page_size) if frames else 0


def extend_runway(conn: sqlite3.Connection, wal: Path, turn: int, end: int,
                  runway: int = RUNWAY_BYTES, step: int = STEP_BYTES) -> int:
    """Extend the WAL file with zeros until it reaches `runway` past `end` (its content's end when
    last checked), at most `step` bytes per writers' turn (`turn`: a descriptor of the
    ledger's writer lock, flock'ed as every writer does). Returns the bytes added; stops without
    error when another writer holds SQLite's lock (`conn` must not wait: timeout 0), the WAL is gone
    or the disk refuses (the runway only saves time: the WAL then grows as before)."""
    total = 0
    while hasattr(os, "posix_fallocate"):  # Linux; elsewhere the WAL grows as before
        fcntl.flock(turn, fcntl.LOCK_EX)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")  # no frame is written until COMMIT
            except sqlite3.OperationalError:  # a writer that takes no turn (a CLI): next time
                return total
            try:
                added = _append_zeros(wal, end + runway, step)
            finally:
                conn.execute("COMMIT")
        finally:
            fcntl.flock(turn, fcntl.LOCK_UN)
        if not added:
            break
        total += added
    return total


def _append_zeros(wal: Path, upto: int, most: int) -> int:
    """Extend the WAL file with zeros until it is `upto` bytes long, at most `most` bytes: space
    allocated without writing it (nothing goes to the disk) and read into the page cache, so that
    SQLite's frames land on cached pages."""
    try:
        fd = os.open(wal, os.O_WRONLY | os.O_CLOEXEC)  # never creates it; nothing locks the WAL file
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        length = min(upto, size + most) - size
        if length <= 0:
            return 0
        try:
            os.posix_fallocate(fd, size, length)  # reads as zeros
            os.posix_fadvise(fd, size, length, os.POSIX_FADV_WILLNEED)
        except OSError as exc:  # e.g. the disk is full: SQLite will report that where it matters
            log.warning("Expected to allocate %d bytes past the WAL's end, got %s; the WAL grows as before", length, exc)
            return 0
        return length
    finally:
        os.close(fd)
