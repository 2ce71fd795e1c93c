"""The evaluator's applier: rounds are judged on while the ingest writer holds the turn, written in
order once it is free, and dropped (never written twice) when another evaluator moved the position."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from collector.ingest.applier import Applier
from collector.ingest.decode import decode_messages
from collector.ledger_service import Evaluation, LedgerService
from collector.rules import RuleSettings
from collector.store.sqlite import SQLiteLedger
from drugtrace.events import Code, CodeKind
from tests.collector.helpers import COUNTY, T0, message, receipt, sale
from tests.collector.test_evaluate_pending import open_alerts

NOW = T0 + dt.timedelta(hours=2)


def _store_traffic(service: LedgerService) -> None:
    """Eight boxes received at S1; each sold at S1, half of them sold again at S2 (alerts to find)."""
    rng = random.Random(3)
    for n in range(8):
        box = Code(key=f"8123456{rng.randrange(10**13):013d}", kind=CodeKind.NMPA, product_key="8123456")
        messages = [message("S1", [receipt("S1", 10 * n, n, box), sale("S1", 10 * n + 1, 30 + n, box)])]
        if n % 2:
            messages.append(message("S2", [sale("S2", n, 60 + n, box)]))
        service.store_decoded(decode_messages(messages, COUNTY), NOW)


def _applier(path: Path, written: list[Evaluation]) -> tuple[Applier, SQLiteLedger]:
    ledger = SQLiteLedger(path)
    applier = Applier(LedgerService(ledger, COUNTY, RuleSettings()), lambda: NOW, written.append, held=3)
    applier.start()
    return applier, ledger


def test_rounds_are_judged_on_while_the_ingest_writer_holds_the_turn_and_written_once_it_is_free(
        tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    judge_ledger, ingest = SQLiteLedger(path), SQLiteLedger(path)
    judge = LedgerService(judge_ledger, COUNTY, RuleSettings())
    _store_traffic(judge)
    written: list[Evaluation] = []
    applier, writer = _applier(path, written)
    with ingest.transaction():  # the ingest writer's batch transaction holds the turn meanwhile
        rounds = []
        position = None
        for _ in range(3):  # more than one round: the judge did not wait for the first to be written
            judged = judge.judge_round(NOW, after=position, limit=5)
            applier.put(applier.generation, judged)
            rounds.append(judged)
            position = judged.upto
        assert [(r.after, r.upto) for r in rounds] == [(0, 5), (5, 10), (10, 15)]
        assert judge_ledger.evaluated_upto() == 0 and written == []
    applier.drain()
    assert judge_ledger.evaluated_upto() == 15
    # in one transaction or two (whether the applier took the first round before the others came)
    assert written[0].after == 0 and written[-1].upto == 15
    assert all(a.upto == b.after for a, b in zip(written, written[1:]))
    while judge.evaluate_pending(NOW).judged:  # the rest, the usual way
        pass
    reference = SQLiteLedger(tmp_path / "reference.db")
    at_once = LedgerService(reference, COUNTY, RuleSettings())
    _store_traffic(at_once)
    at_once.evaluate_pending(NOW, limit=1_000)
    assert open_alerts(judge_ledger) == open_alerts(reference) and len(open_alerts(reference)) == 4
    applier.stop()
    for ledger in (judge_ledger, ingest, writer, reference):
        ledger.close()


def test_rounds_judged_before_another_evaluator_moved_the_position_are_dropped_unwritten(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    judge_ledger, other_ledger = SQLiteLedger(path), SQLiteLedger(path)
    judge, other = LedgerService(judge_ledger, COUNTY, RuleSettings()), LedgerService(other_ledger, COUNTY,
                                                                                       RuleSettings())
    _store_traffic(judge)
    written: list[Evaluation] = []
    applier, writer = _applier(path, written)
    generation = applier.generation
    first = judge.judge_round(NOW, limit=5)
    second = judge.judge_round(NOW, after=first.upto, limit=5)
    moved = other.evaluate_pending(NOW, limit=5)  # meanwhile: the other evaluator writes the same span
    assert (moved.after, moved.upto) == (0, 5)
    alerts_before = judge_ledger.conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    applier.put(generation, first)
    applier.drain()
    assert applier.generation != generation  # the judge must start again from the ledger's position
    applier.put(generation, second)  # judged in the old generation: dropped too, though it would chain
    applier.drain()
    assert written == [] and judge_ledger.evaluated_upto() == 5
    assert judge_ledger.conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == alerts_before
    again = judge.judge_round(NOW, limit=5)  # from the ledger's position, in the new generation
    applier.put(applier.generation, again)
    applier.drain()
    assert [(e.after, e.upto) for e in written] == [(5, 10)] and judge_ledger.evaluated_upto() == 10
    applier.stop()
    for ledger in (judge_ledger, other_ledger, writer):
        ledger.close()
