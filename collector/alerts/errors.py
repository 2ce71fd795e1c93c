"""Refusals of the alert lifecycle: values with a reason, raised as collector errors."""

from __future__ import annotations

import enum

from collector.errors import CollectorError


class AlertError(CollectorError):
    """Base class of the alert lifecycle's errors."""


class AlertNotFound(AlertError):
    """No alert has the id asked for."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"Expected an existing alert id, got {alert_id}.")
        self.alert_id = alert_id


class Refusal(enum.Enum):
    """Why a transition was refused (stable names for the CLI, the dashboard and tests)."""

    NOT_PERMITTED = "not_permitted"  # the actor's role may not do this (a viewer, or a person doing a system step)
    NO_CLOSURE_CODE = "no_closure_code"
    NO_NOTE = "no_note"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    NOT_ACKNOWLEDGED = "not_acknowledged"  # closing needs an acknowledged alert
    CLOSED = "closed"  # acting (other than reopening) on a confirmed or dismissed alert
    WITHDRAWN = "withdrawn"  # the system withdrew it: later events showed it was not a hit
    NOT_CLOSED = "not_closed"  # reopening an alert that is not closed
    CONFLICT = "conflict"  # another alert of the same rule and subject is open


class TransitionRefused(AlertError):
    """A lifecycle action that is not allowed in the alert's current state (nothing was changed)."""

    def __init__(self, alert_id: int, action: str, reason: Refusal, detail: str) -> None:
        super().__init__(f"Cannot {action} alert {alert_id}: {detail}")
        self.alert_id = alert_id
        self.action = action
        self.reason = reason
