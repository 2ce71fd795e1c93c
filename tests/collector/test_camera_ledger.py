"""Camera rules against a real SQLite ledger: a settlement and its camera evidence in either order,
across separate transactions, end with the same alerts; the stills to ask for follow the hits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from collector.camera_ledger import judge_camera
from collector.ingest.decode import to_row
from collector.rules import DEFAULT_SETTINGS
from collector.stills import StillRequestOut
from collector.store.base import stamp
from collector.store.sqlite import SQLiteLedger
from drugtrace.events import CameraEvidence, Health
from drugtrace.wire import seal
from tests.collector.rules.builders import line, sale, settlement, t

S = "S001"
STILL = "5" * 64


def _evidence(id: str, of, *, people: int, health: Health = Health.OK) -> CameraEvidence:
    return seal(CameraEvidence(id=id, store=S, doc=of.doc, seq=of.seq + 1, at=of.at + dt.timedelta(seconds=10),
                               setl_id=of.setl_id, window_start=of.at - dt.timedelta(seconds=60),
                               window_end=of.at + dt.timedelta(seconds=10), frames_analysed=70,
                               frames_with_person=70 if people else 0, people_max=people,
                               codes_seen=["81234567890123456789"], camera_health=health, still_image=STILL))


def _ingest(ledger: SQLiteLedger, events) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    now = t(hours=2)
    with ledger.transaction():
        new = ledger.insert_events([to_row(e, stamp(now)) for e in events])
        judged = judge_camera(ledger, new, DEFAULT_SETTINGS)
        ledger.record_hits(judged.hits, now, withdraw=judged.withdraw)
        requests = judged.still_requests()
    return [(r.store, r.setl_id, r.sha256) for r in requests]


def _open(ledger: SQLiteLedger) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((a.rule, a.subject, a.evidence) for a in ledger.alerts())


@pytest.mark.parametrize("evidence_first", [False, True], ids=["settlement_first", "evidence_first"])
def test_either_order_gives_the_same_alerts(tmp_path: Path, evidence_first: bool) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    empty = settlement("st1", S, t(minutes=59, seconds=30), "D1")  # evidence lands in the next hour
    sold = sale("sa1", S, t(minutes=59), "D1")
    fine = settlement("st2", S, t(minutes=20), "D2")
    batches = [[sold, empty, fine], [_evidence("ev1", empty, people=0), _evidence("ev2", fine, people=1)]]
    if evidence_first:
        batches.reverse()
    requests = [_ingest(ledger, batch) for batch in batches]
    assert _open(ledger) == [("swipe_nobody", "settlement:S001:SETL-st1", ("ev1", "st1"))]
    assert [r for r in requests if r] == [[(S, "SETL-st1", STILL)]]
    # redelivery changes nothing, and asks again only while the still is missing
    assert _ingest(ledger, batches[0] + batches[1]) == []
    assert _open(ledger) == [("swipe_nobody", "settlement:S001:SETL-st1", ("ev1", "st1"))]
    ledger.close()


def test_evidence_arriving_after_its_settlement_opens_the_camera_alerts(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    s = settlement("st1", S, t(minutes=5), "D1", lines=[line(1, 0)])
    _ingest(ledger, [s])
    assert _open(ledger) == []  # camera rules wait for the camera's evidence
    _ingest(ledger, [_evidence("ev1", s, people=0, health=Health.COVERED)])
    assert _open(ledger) == [("camera_blind", "settlement:S001:SETL-st1", ("ev1", "st1")),
                             ("swipe_without_scan", "settlement:S001:SETL-st1", ("ev1", "st1"))]
    ledger.close()


def test_still_requests_skip_stills_already_kept(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    s = settlement("st1", S, t(minutes=5), "D1")
    with ledger.transaction():
        new = ledger.insert_events([to_row(e, stamp(t(hours=1))) for e in (s, _evidence("ev1", s, people=0))])
        judged = judge_camera(ledger, new, DEFAULT_SETTINGS)
    assert judged.still_requests() == [StillRequestOut(S, "SETL-st1", STILL)]
    assert judged.still_requests(lambda store, sha: True) == []
    ledger.close()
