"""The alert lifecycle as a pure state machine (docs/alerts.md).

    new ──acknowledge──▶ acknowledged ──close(code, note)──▶ confirmed | dismissed
     ▲                                                             │
     └────────────── reopen (new evidence, or an auditor) ─────────┘
    new | acknowledged ──withdraw (system: later events undid the hit)──▶ withdrawn

Every function takes the alert's current status and returns a `Transition`: the new status and
the `AuditRecord` that explains it. Refusals raise `TransitionRefused` with a `Refusal` reason;
nothing here touches a database or a clock (`now` is passed in).

>>> import datetime as dt
>>> now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
>>> li = Actor("li.auditor", Role.AUDITOR)
>>> step = acknowledge(7, Status.NEW, li, now)
>>> step.status, step.record.action
(<Status.ACKNOWLEDGED: 'acknowledged'>, <Action.ACKNOWLEDGE: 'acknowledge'>)
>>> close(7, step.status, li, now, None, "checked").status
Traceback (most recent call last):
...
collector.alerts.errors.TransitionRefused: Cannot close alert 7: expected a closure code (one of confirmed_fraud, \
confirmed_error_corrected, dismissed_false_positive, dismissed_legitimate_split_pack, dismissed_duplicate_upload, \
dismissed_other), got none.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from collector.alerts.errors import AlertError, Refusal, TransitionRefused


class Status(enum.Enum):
    """Where an alert is in its lifecycle."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"  # an auditor is looking at it
    CONFIRMED = "confirmed"  # closed: the finding stands
    DISMISSED = "dismissed"  # closed: not fraud
    WITHDRAWN = "withdrawn"  # closed by the system: later (late-arriving) events showed it was not a hit

    @property
    def is_open(self) -> bool:
        return self in (Status.NEW, Status.ACKNOWLEDGED)


class Outcome(enum.Enum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class ClosureCode(enum.Enum):
    """Why an auditor closed an alert; the prefix says whether the finding was confirmed or dismissed."""

    CONFIRMED_FRAUD = "confirmed_fraud"
    CONFIRMED_ERROR_CORRECTED = "confirmed_error_corrected"
    DISMISSED_FALSE_POSITIVE = "dismissed_false_positive"
    DISMISSED_LEGITIMATE_SPLIT_PACK = "dismissed_legitimate_split_pack"
    DISMISSED_DUPLICATE_UPLOAD = "dismissed_duplicate_upload"
    DISMISSED_OTHER = "dismissed_other"

    @property
    def outcome(self) -> Outcome:
        return Outcome.CONFIRMED if self.value.startswith("confirmed_") else Outcome.DISMISSED

    @property
    def description(self) -> str:
        """A bilingual sentence for people (docs/alerts.md lists them all)."""
        return _CLOSURE_TEXT[self]


_CLOSURE_TEXT = {
    ClosureCode.CONFIRMED_FRAUD: "确认违规 / fraud confirmed: handed to enforcement",
    ClosureCode.CONFIRMED_ERROR_CORRECTED: "确认差错已纠正 / a real error (not fraud), corrected by the store",
    ClosureCode.DISMISSED_FALSE_POSITIVE: "误报 / false positive: the rule misjudged the events",
    ClosureCode.DISMISSED_LEGITIMATE_SPLIT_PACK: "合规拆零 / legitimate split-pack sales of one box",
    ClosureCode.DISMISSED_DUPLICATE_UPLOAD: "重复上传 / the same scan uploaded twice, one sale in fact",
    ClosureCode.DISMISSED_OTHER: "其他（见备注） / other reason, explained in the note",
}
CLOSURE_CODES = ", ".join(code.value for code in ClosureCode)


class Role(enum.Enum):
    VIEWER = "viewer"  # may read alerts, never change them
    AUDITOR = "auditor"  # acknowledges, closes, reopens
    SYSTEM = "system"  # the collector itself: raises, escalates, withdraws, reopens on new evidence


class Action(enum.Enum):
    RAISE = "raise"
    ACKNOWLEDGE = "acknowledge"
    CLOSE = "close"
    REOPEN = "reopen"
    ESCALATE = "escalate"  # severity rose or stores were added; the status does not change
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role


SYSTEM = Actor("system", Role.SYSTEM)


@dataclass(frozen=True)
class AuditRecord:
    """One line of an alert's audit trail: who did what, when, from which status to which."""

    alert: int
    actor: str
    role: Role
    action: Action
    at: dt.datetime
    from_status: Status | None  # None for RAISE
    to_status: Status
    closure: ClosureCode | None = None
    note: str = ""


@dataclass(frozen=True)
class Transition:
    status: Status
    record: AuditRecord


_ALLOWED: dict[Action, frozenset[Role]] = {
    Action.RAISE: frozenset({Role.SYSTEM}),
    Action.ACKNOWLEDGE: frozenset({Role.AUDITOR}),
    Action.CLOSE: frozenset({Role.AUDITOR}),
    Action.REOPEN: frozenset({Role.AUDITOR, Role.SYSTEM}),
    Action.ESCALATE: frozenset({Role.SYSTEM}),
    Action.WITHDRAW: frozenset({Role.SYSTEM}),
}


def _refuse(alert: int, action: Action, reason: Refusal, detail: str) -> TransitionRefused:
    return TransitionRefused(alert, action.value, reason, detail)


def _check_actor(alert: int, action: Action, actor: Actor) -> None:
    allowed = _ALLOWED[action]
    if actor.role not in allowed:
        roles = " or ".join(sorted(role.value for role in allowed))
        raise _refuse(alert, action, Refusal.NOT_PERMITTED,
                      f"expected an actor with role {roles}, got {actor.name!r} ({actor.role.value}).")


def _check_not_closed(alert: int, action: Action, status: Status) -> None:
    if status is Status.WITHDRAWN:
        raise _refuse(alert, action, Refusal.WITHDRAWN,
                      "it was withdrawn by the system (later events showed it was not a hit).")
    if not status.is_open:
        raise _refuse(alert, action, Refusal.CLOSED,
                      f"it is closed ({status.value}); reopen it first if it needs another look.")


def _note(alert: int, action: Action, note: str, why: str) -> str:
    text = note.strip()
    if not text:
        raise _refuse(alert, action, Refusal.NO_NOTE, f"expected a non-empty note ({why}), got {note!r}.")
    return text


def raised(alert: int, now: dt.datetime, note: str = "") -> Transition:
    """A rule hit became a new alert."""
    return Transition(Status.NEW, AuditRecord(alert, SYSTEM.name, Role.SYSTEM, Action.RAISE, now, None, Status.NEW,
                                              note=note))


def acknowledge(alert: int, status: Status, actor: Actor, now: dt.datetime, note: str = "") -> Transition:
    """An auditor takes the alert: new → acknowledged."""
    _check_actor(alert, Action.ACKNOWLEDGE, actor)
    _check_not_closed(alert, Action.ACKNOWLEDGE, status)
    if status is Status.ACKNOWLEDGED:
        raise _refuse(alert, Action.ACKNOWLEDGE, Refusal.ALREADY_ACKNOWLEDGED, "it is already acknowledged.")
    return Transition(Status.ACKNOWLEDGED, AuditRecord(alert, actor.name, actor.role, Action.ACKNOWLEDGE, now, status,
                                                       Status.ACKNOWLEDGED, note=note.strip()))


def close(alert: int, status: Status, actor: Actor, now: dt.datetime, closure: ClosureCode | None,
          note: str) -> Transition:
    """An auditor decides: acknowledged → confirmed or dismissed, by the closure code's prefix."""
    _check_actor(alert, Action.CLOSE, actor)
    _check_not_closed(alert, Action.CLOSE, status)
    if closure is None:
        raise _refuse(alert, Action.CLOSE, Refusal.NO_CLOSURE_CODE,
                      f"expected a closure code (one of {CLOSURE_CODES}), got none.")
    text = _note(alert, Action.CLOSE, note, "what was checked and found")
    if status is not Status.ACKNOWLEDGED:
        raise _refuse(alert, Action.CLOSE, Refusal.NOT_ACKNOWLEDGED,
                      f"expected an acknowledged alert, got {status.value}; acknowledge it first.")
    target = Status.CONFIRMED if closure.outcome is Outcome.CONFIRMED else Status.DISMISSED
    return Transition(target, AuditRecord(alert, actor.name, actor.role, Action.CLOSE, now, status, target,
                                          closure, text))


def reopen(alert: int, status: Status, actor: Actor, now: dt.datetime, note: str) -> Transition:
    """Closed → new. The system reopens only dismissed alerts (on new evidence); an auditor may reopen a
    confirmed or dismissed one, with a note. A withdrawn alert is never reopened: a new hit opens a new alert."""
    _check_actor(alert, Action.REOPEN, actor)
    if status is Status.WITHDRAWN:
        raise _refuse(alert, Action.REOPEN, Refusal.WITHDRAWN,
                      "it was withdrawn by the system; a new hit on its subject opens a new alert.")
    if status.is_open:
        raise _refuse(alert, Action.REOPEN, Refusal.NOT_CLOSED, f"expected a closed alert, got {status.value}.")
    if actor.role is Role.SYSTEM and status is Status.CONFIRMED:
        raise _refuse(alert, Action.REOPEN, Refusal.CLOSED,
                      "it is confirmed; new evidence opens a follow-up alert instead.")
    text = _note(alert, Action.REOPEN, note, "why it needs another look")
    return Transition(Status.NEW, AuditRecord(alert, actor.name, actor.role, Action.REOPEN, now, status, Status.NEW,
                                              note=text))


def escalate(alert: int, status: Status, now: dt.datetime, note: str) -> Transition:
    """The system raised the severity or added stores of an open alert; its status does not change."""
    _check_not_closed(alert, Action.ESCALATE, status)
    return Transition(status, AuditRecord(alert, SYSTEM.name, Role.SYSTEM, Action.ESCALATE, now, status, status,
                                          note=note))


def withdraw(alert: int, status: Status, now: dt.datetime) -> Transition:
    """The system withdrew an open alert that no hit supports any more."""
    _check_not_closed(alert, Action.WITHDRAW, status)
    return Transition(Status.WITHDRAWN, AuditRecord(alert, SYSTEM.name, Role.SYSTEM, Action.WITHDRAW, now, status,
                                                    Status.WITHDRAWN))


def replay(records: Iterable[AuditRecord]) -> Status | None:
    """The status an audit trail leads to (None for an empty trail); raises AlertError if the trail is
    inconsistent (a record starting from a status the previous one did not end in)."""
    status: Status | None = None
    for index, record in enumerate(records):
        if record.from_status is not status:
            was = "nothing" if status is None else status.value
            got = "nothing" if record.from_status is None else record.from_status.value
            raise AlertError(f"Audit trail of alert {record.alert} breaks at record {index} ({record.action.value}): "
                             f"expected it to start from {was}, got {got}.")
        status = record.to_status
    return status
