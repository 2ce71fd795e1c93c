"""A writer killed with SIGKILL mid-stream loses no committed event and leaves no gap."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from agent.outbox import SqliteOutbox
from drugtrace.wire import DecodeFailure, decode_event

WRITER = """
import sys
from pathlib import Path
from agent.outbox import SqliteOutbox
from tests.support.sample_events import realistic_mix
outbox = SqliteOutbox(Path(sys.argv[1]), store="S001", capacity=10**6)
for round_ in range(10**6):
    for event in outbox.commit(None, realistic_mix(3, seed=round_)):
        print(event.seq, event.id, flush=True)
"""


def test_kill9_mid_stream_keeps_every_committed_event(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    root = Path(__file__).resolve().parents[3]
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=root, stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    confirmed: dict[int, str] = {}
    for line in writer.stdout:
        seq, event_id = line.split()
        confirmed[int(seq)] = event_id
        if len(confirmed) >= 300:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    assert writer.returncode == -signal.SIGKILL

    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    outbox = SqliteOutbox(path, store="S001", capacity=10**6)
    stored = outbox.pending(10**6)
    seqs = [p.seq for p in stored]
    assert seqs == list(range(1, len(seqs) + 1))  # gapless; whole transactions only
    assert len(seqs) % 3 == 0
    by_seq = {p.seq: p for p in stored}
    for seq, event_id in confirmed.items():
        assert by_seq[seq].id == event_id
        assert not isinstance(decode_event(by_seq[seq].body), DecodeFailure)  # decodes, hash verified
    assert outbox.stats().next_seq == len(seqs) + 1
