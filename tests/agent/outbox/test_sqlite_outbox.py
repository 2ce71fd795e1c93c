"""SqliteOutbox on real SQLite files: one transaction per commit, gapless seqs, never drops."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import OutboxFull
from agent.outbox import SqliteOutbox
from agent.outbox.sqlite import OutboxRejected, read_status
from agent.ports import DocumentRecord, LocalCodeState
from drugtrace.events import (
    Code, CodeKind, DeviceHealth, Health, Heartbeat, PurchaseReturn, Receipt, Sale, SaleReturn, StockChange,
    StockChangeKind,
)
from drugtrace.ids import uuid7
from drugtrace.wire import decode_event
from tests.support.sample_events import realistic_mix

AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def code(key: str) -> Code:
    return Code(key=key, kind=CodeKind.NMPA, product_key=key[:7])


def sale(key: str, doc: str = "D1", trdn_flag: int = 0) -> Sale:
    return Sale(id=uuid7(), store="S001", doc=doc, seq=1, at=AT, line=1, product="P1", code=code(key),
                price_fen=100, trdn_flag=trdn_flag)


def open_outbox(path: Path, capacity: int = 1000, clock: float | None = None) -> SqliteOutbox:
    return SqliteOutbox(path, store="S001", capacity=capacity, nearly_full_ratio=0.5,
                        **({"clock": lambda: clock} if clock is not None else {}))


def test_commit_assigns_gapless_seqs_and_seals(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "o.sqlite")
    first = outbox.commit(None, realistic_mix(3))
    second = outbox.commit(None, realistic_mix(2, seed=2))
    assert [e.seq for e in first + second] == [1, 2, 3, 4, 5]
    stored = outbox.pending(100)
    assert [p.seq for p in stored] == [1, 2, 3, 4, 5]
    for pending, event in zip(stored, first + second):
        decoded = decode_event(pending.body)  # verifies the content hash
        assert decoded == event
        assert pending.id == event.id


def test_document_and_events_are_one_transaction(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "o.sqlite")
    doc = DocumentRecord("D1", "sale", b'{"lines": 1}', closed=False)
    [sold] = outbox.commit(doc, [sale("81234567890123456789")])
    replay = msgspec.structs.replace(sale("81234567890123456780"), id=sold.id)  # an id already stored
    with pytest.raises(OutboxRejected, match="already in the outbox"):
        outbox.commit(DocumentRecord("D1", "sale", b'{"lines": 2}', closed=True), [replay])
    assert outbox.open_documents() == [doc]  # the document change was rolled back with the event
    assert outbox.code_state("81234567890123456780") is None
    assert [e.seq for e in outbox.commit(None, [sale("81234567890123456781")])] == [2]  # no gap


def test_events_of_another_store_are_refused(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "o.sqlite")
    with pytest.raises(OutboxRejected, match="Expected events of store 'S001', got one of 'S002'"):
        outbox.commit(None, [msgspec.structs.replace(sale("81234567890123456789"), store="S002")])
    assert outbox.pending(10) == []


def test_code_states_follow_the_events(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "o.sqlite")
    box, case_box = "81234567890123456789", "81234567890123456001"
    split, gone = "81234567890123456002", "81234567890123456003"
    receipt = Receipt(id=uuid7(), store="S001", doc="R1", seq=1, at=AT, supplier="s", invoice="i", product="P1",
                      code=code("81234567890123456000"), contains=[case_box])
    outbox.commit(None, [receipt])
    assert outbox.code_state(case_box) is LocalCodeState.IN_STOCK
    outbox.commit(None, [sale(box), sale(split, trdn_flag=1)])
    assert outbox.code_state(box) is LocalCodeState.SOLD
    assert outbox.code_state(split) is LocalCodeState.OPENED
    outbox.commit(None, [SaleReturn(id=uuid7(), store="S001", doc="X", seq=1, at=AT, original_doc="D1",
                                    product="P1", code=code(box))])
    assert outbox.code_state(box) is LocalCodeState.RETURNED
    outbox.commit(None, [StockChange(id=uuid7(), store="S001", doc="C", seq=1, at=AT, product="P1", code=code(gone),
                                     change=StockChangeKind.DESTROYED),
                         PurchaseReturn(id=uuid7(), store="S001", doc="C", seq=1, at=AT, supplier="s", product="P1",
                                        code=code(case_box))])
    assert outbox.code_state(gone) is LocalCodeState.DESTROYED
    assert outbox.code_state(case_box) is LocalCodeState.PURCHASE_RETURNED
    assert outbox.code_state("81234567890123456999") is None


def test_open_documents_survive_a_restart(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "o.sqlite")
    outbox.commit(DocumentRecord("D1", "sale", b"one", closed=False), [])
    outbox.commit(DocumentRecord("D2", "receipt", b"two", closed=False), [])
    outbox.commit(DocumentRecord("D1", "sale", b"one-done", closed=True), [])
    outbox.close()
    again = open_outbox(tmp_path / "o.sqlite")
    assert again.open_documents() == [DocumentRecord("D2", "receipt", b"two", closed=False)]


def test_full_outbox_refuses_instead_of_dropping(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "o.sqlite", capacity=10)
    outbox.commit(None, realistic_mix(4))
    assert outbox.fill_level().nearly_full is False
    outbox.commit(None, realistic_mix(5, seed=2))
    level = outbox.fill_level()
    assert (level.depth, level.nearly_full, level.full) == (9, True, False)
    with pytest.raises(OutboxFull, match="Expected room for 2 event\\(s\\) in the outbox, got 1 of 10"):
        outbox.commit(None, realistic_mix(2, seed=3))
    assert [p.seq for p in outbox.pending(100)] == list(range(1, 10))  # nothing dropped, nothing added
    outbox.mark_sent(5)
    assert [e.seq for e in outbox.commit(None, realistic_mix(2, seed=3))] == [10, 11]
    assert outbox.fill_level().depth == 6


def test_pending_and_the_acknowledged_watermark(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "o.sqlite")
    outbox.commit(None, realistic_mix(10))
    assert [p.seq for p in outbox.pending(3)] == [1, 2, 3]
    assert [p.seq for p in outbox.pending(3, after_seq=3)] == [4, 5, 6]
    outbox.mark_sent(4)
    outbox.mark_sent(2)  # an older acknowledgement never moves the watermark back
    assert [p.seq for p in outbox.pending(2)] == [5, 6]
    with pytest.raises(OutboxRejected, match="up to at most seq 10, got 11"):
        outbox.mark_sent(11)
    stats = outbox.stats()
    assert (stats.depth, stats.acked_seq, stats.next_seq) == (6, 4, 11)
    assert stats.last_upload is not None


def test_acknowledged_events_are_pruned_by_age_only(tmp_path: Path) -> None:
    now = [1_000_000.0]
    outbox = SqliteOutbox(tmp_path / "o.sqlite", store="S001", capacity=100, clock=lambda: now[0])
    outbox.commit(None, realistic_mix(4))
    now[0] += 3600
    outbox.commit(None, realistic_mix(2, seed=2))
    outbox.mark_sent(5)
    assert outbox.prune(older_than_s=1800) == 4  # seqs 1-4: acknowledged and old
    assert outbox.prune(older_than_s=0) == 1  # seq 5 acknowledged; seq 6 never before its PUBACK
    assert [p.seq for p in outbox.pending(10)] == [6]
    rows = sqlite3.connect(tmp_path / "o.sqlite").execute("SELECT seq FROM events").fetchall()
    assert rows == [(6,)]
    assert [e.seq for e in outbox.commit(None, realistic_mix(1, seed=3))] == [7]  # pruning keeps the sequence


def test_reopen_continues_the_sequence_and_keeps_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    outbox = open_outbox(path)
    outbox.commit(None, realistic_mix(3))
    outbox.mark_sent(1)
    outbox.close()
    again = open_outbox(path)  # migrations run again: idempotent
    assert [e.seq for e in again.commit(None, realistic_mix(1, seed=5))] == [4]
    assert [p.seq for p in again.pending(10)] == [2, 3, 4]
    assert again._conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert again._conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


def test_status_reads_depth_and_the_last_heartbeat(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "o.sqlite")
    beat = Heartbeat(id=uuid7(), store="S001", seq=1, at=AT, version="0.1", outbox_depth=0, outbox_capacity=1000,
                     scanners=[DeviceHealth(name="serial0", health=Health.OFFLINE, gaps=2)])
    outbox.commit(None, [beat, sale("81234567890123456789")])
    stats, heartbeat = read_status(tmp_path / "o.sqlite", capacity=1000, nearly_full_ratio=0.8)
    assert stats.depth == 2
    assert heartbeat is not None and heartbeat.scanners == beat.scanners


def test_status_of_a_missing_outbox_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Expected an outbox at .*none.sqlite"):
        read_status(tmp_path / "none.sqlite", capacity=10, nearly_full_ratio=0.8)


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=7), max_size=8), acks=st.lists(st.integers(0, 60), max_size=5))
def test_sequences_stay_gapless_whatever_the_batches(tmp_path_factory: pytest.TempPathFactory,
                                                     sizes: list[int], acks: list[int]) -> None:
    outbox = open_outbox(tmp_path_factory.mktemp("h") / "o.sqlite")
    seqs: list[int] = []
    for round_, size in enumerate(sizes):
        seqs += [e.seq for e in outbox.commit(None, realistic_mix(size, seed=round_) if size else [])]
        for ack in acks:
            if ack < outbox.stats().next_seq:
                outbox.mark_sent(ack)
    assert seqs == list(range(1, len(seqs) + 1))
    acked = outbox.stats().acked_seq
    assert [p.seq for p in outbox.pending(100)] == seqs[acked:]
