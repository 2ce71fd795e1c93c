"""Alerts for auditors: the lifecycle (pure) and the service that applies it to the ledger (docs/alerts.md)."""

from collector.alerts.errors import AlertError, AlertNotFound, Refusal, TransitionRefused
from collector.alerts.lifecycle import (
    SYSTEM, Action, Actor, AuditRecord, ClosureCode, Outcome, Role, Status, Transition, acknowledge, close, escalate,
    raised, reopen, replay, withdraw,
)

__all__ = [
    "SYSTEM", "Action", "Actor", "AlertError", "AlertNotFound", "AuditRecord", "ClosureCode", "Outcome", "Refusal",
    "Role", "Status", "Transition", "TransitionRefused", "acknowledge", "close", "escalate", "raised", "reopen",
    "replay", "withdraw",
]
