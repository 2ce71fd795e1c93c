"""Auditors' actions from the dashboard, applied through the alert lifecycle service (collector.alerts).

The service refuses what the lifecycle forbids (and changes nothing then); this module maps the
dashboard's user to the lifecycle's actor, applies one action to one or many alerts, and
returns what happened to each so the page can say it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from collector.alerts import AlertError, ClosureCode
from collector.alerts import Actor
from collector.alerts import Role as LifecycleRole
from collector.alerts.service import AlertService
from collector.store.sqlite import SQLiteLedger
from collector.web.accounts import Role, User


class AlertAction(enum.Enum):
    ACKNOWLEDGE = "acknowledge"
    CLOSE = "close"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Result:
    alert: int
    done: bool
    message: str  # the new status, or the lifecycle's reason for refusing


def actor(user: User) -> Actor:
    """Auditors and admins act as auditors; a viewer stays a viewer (and the lifecycle refuses it)."""
    return Actor(user.username, LifecycleRole.AUDITOR if user.role.allows(Role.AUDITOR) else LifecycleRole.VIEWER)


def parse_closure(value: str) -> ClosureCode | None:
    try:
        return ClosureCode(value) if value else None
    except ValueError:
        return None


def apply(ledger_path: Path, alert_ids: Iterable[int], action: AlertAction, user: User, now: dt.datetime,
          closure: ClosureCode | None = None, note: str = "") -> list[Result]:
    """Apply `action` to each alert in turn; one alert's refusal does not stop the others."""
    ledger = SQLiteLedger(ledger_path)
    try:
        service = AlertService(ledger)
        who = actor(user)
        results = []
        for alert_id in alert_ids:
            try:
                if action is AlertAction.ACKNOWLEDGE:
                    step = service.acknowledge(alert_id, who, now, note)
                elif action is AlertAction.CLOSE:
                    step = service.close(alert_id, who, now, closure, note)
                else:
                    step = service.reopen(alert_id, who, now, note)
            except AlertError as exc:
                results.append(Result(alert_id, False, str(exc)))
            else:
                results.append(Result(alert_id, True, step.status.value))
        return results
    finally:
        ledger.close()
