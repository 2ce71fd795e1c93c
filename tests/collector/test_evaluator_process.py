"""The rules in their own process, against a real Mosquitto: alerts arrive, a killed evaluator
is restarted and resumes from the ledger's position, stopping judges what is stored."""

from __future__ import annotations

import os
import queue
import signal
from pathlib import Path

from collector.broker.topics import events_topic
from collector.ingest.evaluator import Evaluator, Progress
from collector.ingest.subscriber import Subscriber
from collector.ledger_service import LedgerService
from collector.runner import open_ledger
from collector.store.base import AlertState
from drugtrace.wire import encode_batch
from tests.collector.brokers import Client, secured_broker
from tests.collector.helpers import box, receipt, sale
from tests.support.waiting import wait_until



def test_alerts_come_from_the_evaluator_which_survives_sigkill_and_judges_everything_once(tmp_path: Path) -> None:
    with secured_broker("mosquitto", tmp_path) as broker:
        config = broker.config
        ledger = open_ledger(config)
        evaluator = Evaluator(config)
        rounds: queue.Queue[Progress] = queue.Queue()
        evaluator.listeners.append(rounds.put)
        evaluator.start()
        subscriber = Subscriber(LedgerService(ledger, config.county, config.rules), config.broker,
                                broker.accounts["collector"].password, config.ingest, evaluator=evaluator)
        subscriber.start()
        assert subscriber.subscribed.wait(10)
        s1 = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        s2 = Client(broker.port, "S2", broker.accounts["S2"].password, "agent-S2")

        def sold_twice(n: int) -> int:
            """Box n received and sold at S1, then sold at S2: three events, one rule-2 alert."""
            s1.publish(events_topic("C1", "S1"), encode_batch("S1", [receipt("S1", 10 * n, 0, box(n)),
                                                                      sale("S1", 10 * n + 1, 10, box(n))]))
            s2.publish(events_topic("C1", "S2"), encode_batch("S2", [sale("S2", 10 * n, 20, box(n))]))
            return 3

        def judged(upto: int) -> Progress:
            while True:
                progress = rounds.get(timeout=30)
                if progress.upto >= upto:
                    return progress

        total = sold_twice(1)
        judged(total)
        assert [a.code for a in ledger.alerts(AlertState.OPEN, rule="sold_at_two_stores")] == [box(1).key]
        first_pid = evaluator.pid
        os.kill(first_pid, signal.SIGKILL)
        for n in range(2, 6):
            total += sold_twice(n)
        judged(total)  # by the evaluator the parent started again
        assert evaluator.restarts == 1 and evaluator.pid != first_pid
        assert subscriber.stats.snapshot()["restarts:evaluator"] == 1
        alerts = ledger.alerts(AlertState.OPEN, rule="sold_at_two_stores")
        assert sorted(a.code for a in alerts) == [box(n).key for n in range(1, 6)]  # each once
        for n in range(6, 9):
            total += sold_twice(n)
        wait_until(lambda: subscriber.stats.snapshot()["stored_upto"] >= total, 30, "the last events committed")
        subscriber.stop()
        evaluator.stop()  # judges what is stored before it ends
        counts = ledger.counts()
        assert counts["events"] == total and counts["unjudged"] == 0
        assert counts["open_alerts:sold_at_two_stores"] == 8
        s1.close()
        s2.close()
        ledger.close()
