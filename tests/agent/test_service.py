"""CounterService over a real SQLite outbox: durable documents, restarts, threads, full outbox, pseudonyms."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agent.counter import DocKind, DocStatus, MessageCode, Verdict
from agent.outbox import SqliteOutbox
from agent.ports import DocumentRecord, LocalCodeState
from agent.service import CounterService, CounterSettings, ServiceError
from drugtrace.events import Payment, Sale, ScanRefused, Settlement
from drugtrace.pseudonym import pseudonymise
from tests.agent.counter.helpers import CATALOGUE, KEY, ManualClock, make_service, nmpa, stored_events

PSN = "420106199001011234"


def test_device_scan_goes_to_the_active_document_and_is_durable(tmp_path: Path) -> None:
    service, outbox = make_service(tmp_path / "outbox.sqlite")
    doc = service.open_document(DocKind.SALE)
    service.add_line(doc.doc_id, "XA01", quantity=1, price_fen=2300)
    outcome = service.handle_scan(nmpa("8123456", 1).encode() + b"\r\n", "serial0")
    assert outcome.accepted and outcome.doc_id == doc.doc_id
    (event,) = stored_events(outbox)
    assert isinstance(event, Sale) and event.code.key == nmpa("8123456", 1) and event.seq == 1 and event.hash
    assert outbox.code_state(nmpa("8123456", 1)) is LocalCodeState.SOLD


def test_scan_without_an_open_document_is_refused_and_still_reported(tmp_path: Path) -> None:
    service, outbox = make_service(tmp_path / "outbox.sqlite")
    outcome = service.handle_scan(nmpa("8123456", 1).encode(), "serial0")
    assert outcome.code is MessageCode.NO_OPEN_DOCUMENT and not outcome.accepted
    (event,) = stored_events(outbox)
    assert isinstance(event, ScanRefused) and event.problem == "no_open_document"


def test_binary_noise_from_a_scanner_is_refused_reported_and_survived(tmp_path: Path) -> None:
    service, outbox = make_service(tmp_path / "outbox.sqlite")
    doc = service.open_document(DocKind.SALE)
    service.add_line(doc.doc_id, "XA01", quantity=1)
    outcome = service.handle_scan(bytes(range(256)) * 40, "serial0")
    assert outcome.verdict is Verdict.REFUSED and "ASCII" in outcome.message.message_en
    (event,) = stored_events(outbox)
    assert isinstance(event, ScanRefused) and event.problem == "not_text" and len(event.raw) <= 128
    assert service.handle_scan(nmpa("8123456", 1).encode(), "serial0").accepted


def test_open_documents_resume_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    service, outbox = make_service(path)
    doc = service.open_document(DocKind.SALE)
    service.add_line(doc.doc_id, "XA01", quantity=2)
    service.handle_scan(nmpa("8123456", 1).encode(), "serial0")
    outbox.close()
    again, outbox2 = make_service(path)
    view = again.view()
    assert view.active is not None and view.active.doc_id == doc.doc_id and view.active.code_count == 1
    assert [m.missing for m in view.missing] == [1]
    assert again.handle_scan(nmpa("8123456", 1).encode(), "serial0").code is MessageCode.DUPLICATE_IN_DOCUMENT
    assert again.handle_scan(nmpa("8123456", 2).encode(), "serial0").accepted
    assert len(stored_events(outbox2)) == 2


def test_an_unreadable_stored_document_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = SqliteOutbox(path, store="S001", capacity=100)
    outbox.commit(DocumentRecord("BROKEN", "sale", b"{not json", False), [])
    service = CounterService(outbox, CATALOGUE, CounterSettings("S001", KEY), ManualClock())
    view = service.view()
    assert view.active is None and "BROKEN" in view.resume_problems[0]


def test_settlement_stores_only_the_pseudonym(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    service, outbox = make_service(path)
    doc = service.open_document(DocKind.SALE)
    service.add_line(doc.doc_id, "ZA01", quantity=10, price_fen=100)
    settled = service.settle(doc.doc_id, setl_id="SETL1", payment=Payment.INSURANCE, total_fen=1000, fund_fen=700,
                             psn_no=PSN)
    assert settled.status is DocStatus.SETTLED
    settlement = stored_events(outbox)[-1]
    assert isinstance(settlement, Settlement) and settlement.person == pseudonymise(PSN, KEY)
    outbox.close()
    for file in tmp_path.iterdir():
        assert PSN.encode() not in file.read_bytes(), f"the real psn_no reached {file.name}"


def test_a_full_outbox_refuses_scans_and_never_drops_accepted_ones(tmp_path: Path) -> None:
    service, outbox = make_service(tmp_path / "outbox.sqlite", capacity=10, nearly_full_ratio=0.5)
    doc = service.open_document(DocKind.SALE)
    service.add_line(doc.doc_id, "XA01", quantity=20)
    outcomes = [service.handle_scan(nmpa("8123456", n).encode(), "serial0") for n in range(12)]
    assert [o.accepted for o in outcomes] == [True] * 10 + [False] * 2
    assert outcomes[-1].code is MessageCode.OUTBOX_FULL
    assert [e.code.key for e in stored_events(outbox)] == [nmpa("8123456", n) for n in range(10)]  # type: ignore[union-attr]
    view = service.view()
    assert view.outbox_warning is not None and view.outbox_warning.code is MessageCode.OUTBOX_FULL
    assert view.active is not None and view.active.code_count == 10  # the document matches the outbox
    outbox.mark_sent(5)
    assert service.handle_scan(nmpa("8123456", 10).encode(), "serial0").accepted
    warning = service.view().outbox_warning
    assert warning is not None and warning.code is MessageCode.OUTBOX_NEARLY_FULL


def test_concurrent_scanners_never_put_one_code_twice(tmp_path: Path) -> None:
    service, outbox = make_service(tmp_path / "outbox.sqlite")
    doc = service.open_document(DocKind.SALE)
    service.add_line(doc.doc_id, "XA01", quantity=40)
    start = threading.Barrier(4)

    def scanner(name: str) -> None:
        start.wait(timeout=10)
        for n in range(30):
            service.handle_scan(nmpa("8123456", n).encode(), name)

    threads = [threading.Thread(target=scanner, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    keys = [e.code.key for e in stored_events(outbox) if isinstance(e, Sale)]  # type: ignore[union-attr]
    assert sorted(keys) == [nmpa("8123456", n) for n in range(30)]
    assert service.document(doc.doc_id).code_count == 30


def test_closed_documents_refuse_changes_and_unknown_ones_are_named(tmp_path: Path) -> None:
    service, _ = make_service(tmp_path / "outbox.sqlite")
    doc = service.open_document(DocKind.RECEIPT, supplier="国药", invoice="I1")
    service.finish(doc.doc_id)
    with pytest.raises(ServiceError) as info:
        service.add_line(doc.doc_id, "XA01", quantity=1)
    assert info.value.code is MessageCode.DOCUMENT_NOT_OPEN
    with pytest.raises(ServiceError) as info:
        service.add_line("nope", "XA01", quantity=1)
    assert info.value.code is MessageCode.UNKNOWN_DOCUMENT
    with pytest.raises(ServiceError) as info:
        service.open_document(DocKind.SALE_RETURN)
    assert info.value.code is MessageCode.BAD_REQUEST


def test_device_scans_follow_the_newest_open_document(tmp_path: Path) -> None:
    service, _ = make_service(tmp_path / "outbox.sqlite")
    first = service.open_document(DocKind.SALE)
    second = service.open_document(DocKind.SALE)
    for doc in (first, second):
        service.add_line(doc.doc_id, "XA01", quantity=1)
    assert service.handle_scan(nmpa("8123456", 1).encode(), "s").doc_id == second.doc_id
    service.activate(first.doc_id)
    assert service.handle_scan(nmpa("8123456", 2).encode(), "s").doc_id == first.doc_id
