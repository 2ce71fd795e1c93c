"""The collector's child processes (collector.ingest.children): pipes wide enough for a chunk."""

from __future__ import annotations

import fcntl
import os
from multiprocessing.connection import Connection
from pathlib import Path

from collector.ingest.children import PIPE_BYTES, spawn


def echo(inbound: Connection, outbound: Connection) -> None:
    """Send back what arrives until end-of-file."""
    while True:
        try:
            outbound.send_bytes(inbound.recv_bytes())
        except EOFError:
            return


def widened_size() -> int:
    """PIPE_BYTES, unless this system caps an unprivileged pipe lower (the pipe then keeps its default)."""
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    return PIPE_BYTES if limit >= PIPE_BYTES or os.geteuid() == 0 else 65536


def test_a_child_gets_a_megabyte_pipe_each_way_and_a_whole_chunk_crosses() -> None:
    process, to_child, from_child = spawn(echo, "drugtrace-test-echo")
    try:
        sizes = [fcntl.fcntl(end.fileno(), fcntl.F_GETPIPE_SZ) for end in (to_child, from_child)]
        assert sizes == [widened_size()] * 2
        chunk = bytes(range(256)) * 4096  # about what a decoded chunk of 2,000 events weighs
        to_child.send_bytes(chunk)
        assert from_child.recv_bytes() == chunk
    finally:
        to_child.close()
        process.join(30)
        from_child.close()
    assert process.exitcode == 0
