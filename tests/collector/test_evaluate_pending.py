"""Storing and judging apart (the evaluator's way) ends with the alerts of judging in each transaction."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.ingest.decode import Message, decode_messages
from collector.ledger_service import LedgerService
from collector.rules import RuleSettings
from collector.store.base import AlertState
from collector.store.sqlite import SQLiteLedger
from drugtrace.wire import encode_batch
from tests.collector.helpers import BOX, COUNTY, T0, message, receipt, sale, sale_return, settlement
from tests.collector.rules.test_properties import NOWS, streams


def open_alerts(ledger: SQLiteLedger) -> set[tuple[str, str]]:
    """(rule, subject) of the open alerts: an alert's evidence also keeps what earlier hits on the
    subject cited, so it depends on which intermediate states were judged (by design)."""
    return {(a.rule, a.subject) for a in ledger.alerts(AlertState.OPEN, limit=10_000)}


def chunks(events: list, rnd: random.Random) -> list[list[Message]]:
    """The events in random order, cut into transactions of messages (one message per store and chunk)."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    out = []
    while shuffled:
        take = shuffled[:rnd.randint(1, 4)]
        shuffled = shuffled[len(take):]
        per_store: dict[str, list] = defaultdict(list)
        for event in take:
            per_store[event.store].append(event)
        out.append([Message(f"drugtrace/{COUNTY}/{store}/events", encode_batch(store, batch), T0)
                    for store, batch in sorted(per_store.items())])
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.randoms(use_true_random=False), st.sampled_from(NOWS))
def test_storing_then_judging_in_rounds_ends_with_the_alerts_of_judging_at_once(stream, rnd, now):
    events, settlements = stream
    transactions = chunks(events + list(settlements.values()), rnd)
    with tempfile.TemporaryDirectory() as tmp:
        at_once = SQLiteLedger(Path(tmp) / "at-once.db")
        apart = SQLiteLedger(Path(tmp) / "apart.db")
        inline, split = LedgerService(at_once, COUNTY, RuleSettings()), LedgerService(apart, COUNTY, RuleSettings())
        for messages in transactions:
            inline.ingest(messages, now)
            split.store_decoded(decode_messages(messages, COUNTY), now)
            if rnd.random() < 0.5:
                split.evaluate_pending(now, limit=rnd.randint(1, 5))
        while split.evaluate_pending(now, limit=rnd.randint(1, 5)).more:
            pass
        assert apart.evaluated_upto() == apart.last_event_rowid()
        assert split.evaluate_pending(now).judged == 0
        assert open_alerts(apart) == open_alerts(at_once)
        at_once.close()
        apart.close()


def test_stored_events_wait_for_judging_and_are_judged_once(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    service = LedgerService(ledger, COUNTY, RuleSettings())
    now = T0 + dt.timedelta(hours=2)
    stored = service.store_decoded(decode_messages(
        [message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]), message("S2", [sale("S2", 1, 20)])], COUNTY), now)
    assert len(stored.new) == 3 and ledger.alerts(AlertState.OPEN) == []
    assert ledger.counts()["unjudged"] == 3
    first = service.evaluate_pending(now, limit=2)
    assert (first.after, first.upto, first.more) == (0, 2, True) and first.alerts.opened == 0
    second = service.evaluate_pending(now)
    assert (second.upto, second.more, second.alerts.opened) == (3, False, 1)
    assert [a.rule for a in ledger.alerts(AlertState.OPEN)] == ["sold_at_two_stores"]
    assert service.evaluate_pending(now).judged == 0 and ledger.counts()["unjudged"] == 0
    ledger.close()


def test_a_settlement_judged_after_its_sale_judges_the_codes_that_sale_sold(tmp_path: Path) -> None:
    """Rule 7 (swipe, return, insured resale) completed by the first sale's settlement arriving in a
    later round than the sale: that round must judge the code again, though it holds no event of it."""
    ledger = SQLiteLedger(tmp_path / "ledger.db")
    service = LedgerService(ledger, COUNTY, RuleSettings())
    now = T0 + dt.timedelta(hours=5)
    cycle = [receipt("S1", 1, 0), sale("S1", 2, 60, doc="D1"), sale_return("S1", 3, 120, "D1"),
             sale("S1", 4, 180, doc="D2"), settlement("S1", 5, 181, "D2")]
    service.store_decoded(decode_messages([message("S1", cycle)], COUNTY), now)
    assert not service.evaluate_pending(now).more
    assert open_alerts(ledger) == set()  # the first sale's payment is not known yet
    service.store_decoded(decode_messages([message("S1", [settlement("S1", 6, 61, "D1")])], COUNTY), now)
    service.evaluate_pending(now)
    assert open_alerts(ledger) == {("swipe_return_cycle", BOX.key)}
    ledger.close()


def test_a_round_whose_position_moved_meanwhile_writes_nothing(tmp_path: Path) -> None:
    """Two evaluators on one ledger: the one that commits second finds the position moved and
    leaves everything to the next round (no alert twice, no evidence lost)."""
    path = tmp_path / "ledger.db"
    mine, theirs = SQLiteLedger(path), SQLiteLedger(path)
    slow, fast = LedgerService(mine, COUNTY, RuleSettings()), LedgerService(theirs, COUNTY, RuleSettings())
    now = T0 + dt.timedelta(hours=2)
    slow.store_decoded(decode_messages(
        [message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]), message("S2", [sale("S2", 1, 20)])], COUNTY), now)
    reads = mine.pending

    def overtaken(after: int, upto: int):  # type: ignore[no-untyped-def]
        work = reads(after, upto)  # inside the slow round's snapshot
        assert fast.evaluate_pending(now).alerts.opened == 1  # the other evaluator commits meanwhile
        return work

    mine.pending = overtaken  # type: ignore[method-assign]
    late = slow.evaluate_pending(now)
    assert (late.judged, late.more, late.alerts.opened) == (0, True, 0)
    mine.pending = reads  # type: ignore[method-assign]
    assert slow.evaluate_pending(now).judged == 0
    alerts = mine.alerts(AlertState.OPEN)
    assert len(alerts) == 1 and alerts[0].subject == BOX.key
    mine.close()
    theirs.close()
