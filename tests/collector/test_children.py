"""The collector's child processes (collector.ingest.children): pipes wide enough for a chunk."""

from __future__ import annotations

import fcntl
from multiprocessing.connection import Connection

from collector.ingest.children import PIPE_BYTES, spawn


def echo(inbound: Connection, outbound: Connection) -> None:
    """Send back what arrives until end-of-file."""
    while True:
        try:
            outbound.send_bytes(inbound.recv_bytes())
        except EOFError:
            return


def test_a_child_gets_a_megabyte_pipe_each_way_and_a_whole_chunk_crosses() -> None:
    process, to_child, from_child = spawn(echo, "drugtrace-test-echo")
    try:
        assert [fcntl.fcntl(end.fileno(), fcntl.F_GETPIPE_SZ) for end in (to_child, from_child)] == [PIPE_BYTES] * 2
        chunk = bytes(range(256)) * 4096  # about what a decoded chunk of 2,000 events weighs
        to_child.send_bytes(chunk)
        assert from_child.recv_bytes() == chunk
    finally:
        to_child.close()
        process.join(30)
        from_child.close()
    assert process.exitcode == 0
