"""Auditors' actions on alerts, applied to the ledger: the status change and its audit record commit together.

The command line (`drugtrace-collector alerts ack|close|reopen`) and the dashboard both call this.
"""

from __future__ import annotations

import datetime as dt

from collector.alerts import persist
from collector.alerts.lifecycle import Actor, AuditRecord, ClosureCode, Status, Transition, acknowledge, close, reopen
from collector.alerts.recording import prepare
from collector.store.sqlite import SQLiteLedger


class AlertService:
    """Lifecycle actions on one ledger. Refusals raise TransitionRefused and change nothing."""

    def __init__(self, ledger: SQLiteLedger) -> None:
        prepare(ledger)
        self.ledger = ledger

    def acknowledge(self, alert_id: int, actor: Actor, now: dt.datetime, note: str = "") -> Transition:
        with self.ledger.transaction():
            step = acknowledge(alert_id, persist.current_status(self.ledger.conn, alert_id), actor, now, note)
            persist.write(self.ledger.conn, step)
        return step

    def close(self, alert_id: int, actor: Actor, now: dt.datetime, closure: ClosureCode | None,
              note: str) -> Transition:
        with self.ledger.transaction():
            step = close(alert_id, persist.current_status(self.ledger.conn, alert_id), actor, now, closure, note)
            persist.write(self.ledger.conn, step)
        return step

    def reopen(self, alert_id: int, actor: Actor, now: dt.datetime, note: str) -> Transition:
        with self.ledger.transaction():
            step = reopen(alert_id, persist.current_status(self.ledger.conn, alert_id), actor, now, note)
            persist.write(self.ledger.conn, step)
        return step

    def status(self, alert_id: int) -> Status:
        return persist.current_status(self.ledger.conn, alert_id)

    def trail(self, alert_id: int) -> list[AuditRecord]:
        persist.current_status(self.ledger.conn, alert_id)  # AlertNotFound for an unknown id
        return persist.trail(self.ledger.conn, alert_id)
