"""A collector that SIGKILLs itself right after its first commit of several messages, before any
PUBACK: `python -m tests.collector.kill_after_commit CONFIG` (used by test_ack_after_commit.py)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path

from collector.broker.credentials import collector_account
from collector.config import load
from collector.ingest.decode import Decoded
from collector.ingest.subscriber import Subscriber
from collector.ledger_service import LedgerService, Outcome
from collector.runner import open_ledger
from collector.sequences import ResendPolicy


class KillAfterCommit:
    def __init__(self, service: LedgerService, at_least: int) -> None:
        self.service = service
        self.county = service.county
        self.at_least = at_least

    def ingest_decoded(self, decoded: Decoded, now: dt.datetime) -> Outcome:
        outcome = self.service.ingest_decoded(decoded, now)  # committed when this returns
        if decoded.messages >= self.at_least:
            print(f"committed {decoded.messages} messages {outcome.received} events", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)  # before the subscriber sends a single PUBACK
        return outcome

    def periodic(self, now: dt.datetime) -> object:
        return self.service.periodic(now)

    def resend_requests(self, now: dt.datetime, policy: ResendPolicy) -> object:
        return self.service.resend_requests(now, policy)


def main(config_path: Path, at_least: int) -> None:
    config = load(config_path)
    ledger = open_ledger(config)
    ledger.start_checkpointer()  # as `run` writes it
    service = KillAfterCommit(LedgerService(ledger, config.county, config.rules), at_least)
    password = collector_account(config).password
    subscriber = Subscriber(service, config.broker, password, config.ingest)  # type: ignore[arg-type]
    subscriber.start()
    print("ingest subscribed." if subscriber.subscribed.wait(30) else "not subscribed.", flush=True)
    signal.sigwait({signal.SIGTERM})


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
