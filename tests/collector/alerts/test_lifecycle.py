"""The pure alert lifecycle: every transition, every refusal (exact messages), random action sequences."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.alerts import lifecycle
from collector.alerts.errors import AlertError, Refusal, TransitionRefused
from collector.alerts.lifecycle import (
    SYSTEM, Action, Actor, AuditRecord, ClosureCode, Outcome, Role, Status, acknowledge, close, escalate, raised,
    reopen, replay, withdraw,
)

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone.utc)
LI = Actor("li", Role.AUDITOR)
VIEWER = Actor("wang", Role.VIEWER)


def test_module_doctests() -> None:
    assert doctest.testmod(lifecycle).failed == 0


@pytest.mark.parametrize(("step", "expected"), [
    pytest.param(lambda: raised(1, NOW),
                 AuditRecord(1, "system", Role.SYSTEM, Action.RAISE, NOW, None, Status.NEW), id="raise"),
    pytest.param(lambda: acknowledge(1, Status.NEW, LI, NOW, " taking it "),
                 AuditRecord(1, "li", Role.AUDITOR, Action.ACKNOWLEDGE, NOW, Status.NEW, Status.ACKNOWLEDGED,
                             note="taking it"), id="acknowledge"),
    pytest.param(lambda: close(1, Status.ACKNOWLEDGED, LI, NOW, ClosureCode.CONFIRMED_FRAUD, "box resold"),
                 AuditRecord(1, "li", Role.AUDITOR, Action.CLOSE, NOW, Status.ACKNOWLEDGED, Status.CONFIRMED,
                             ClosureCode.CONFIRMED_FRAUD, "box resold"), id="close-confirmed"),
    pytest.param(lambda: close(1, Status.ACKNOWLEDGED, LI, NOW, ClosureCode.CONFIRMED_ERROR_CORRECTED, "fixed"),
                 AuditRecord(1, "li", Role.AUDITOR, Action.CLOSE, NOW, Status.ACKNOWLEDGED, Status.CONFIRMED,
                             ClosureCode.CONFIRMED_ERROR_CORRECTED, "fixed"), id="close-confirmed-error"),
    pytest.param(lambda: close(1, Status.ACKNOWLEDGED, LI, NOW, ClosureCode.DISMISSED_LEGITIMATE_SPLIT_PACK, "ok"),
                 AuditRecord(1, "li", Role.AUDITOR, Action.CLOSE, NOW, Status.ACKNOWLEDGED, Status.DISMISSED,
                             ClosureCode.DISMISSED_LEGITIMATE_SPLIT_PACK, "ok"), id="close-dismissed"),
    pytest.param(lambda: reopen(1, Status.DISMISSED, SYSTEM, NOW, "new evidence: e9"),
                 AuditRecord(1, "system", Role.SYSTEM, Action.REOPEN, NOW, Status.DISMISSED, Status.NEW,
                             note="new evidence: e9"), id="reopen-dismissed-by-system"),
    pytest.param(lambda: reopen(1, Status.CONFIRMED, LI, NOW, "wrong box"),
                 AuditRecord(1, "li", Role.AUDITOR, Action.REOPEN, NOW, Status.CONFIRMED, Status.NEW,
                             note="wrong box"), id="reopen-confirmed-by-auditor"),
    pytest.param(lambda: escalate(1, Status.ACKNOWLEDGED, NOW, "severity high → critical"),
                 AuditRecord(1, "system", Role.SYSTEM, Action.ESCALATE, NOW, Status.ACKNOWLEDGED,
                             Status.ACKNOWLEDGED, note="severity high → critical"), id="escalate"),
    pytest.param(lambda: withdraw(1, Status.NEW, NOW),
                 AuditRecord(1, "system", Role.SYSTEM, Action.WITHDRAW, NOW, Status.NEW, Status.WITHDRAWN),
                 id="withdraw"),
])
def test_transition(step, expected: AuditRecord) -> None:  # type: ignore[no-untyped-def]
    transition = step()
    assert transition.record == expected
    assert transition.status is expected.to_status


def _refusal(call) -> TransitionRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(TransitionRefused) as caught:
        call()
    return caught.value


CODES = ("confirmed_fraud, confirmed_error_corrected, dismissed_false_positive, dismissed_legitimate_split_pack, "
         "dismissed_duplicate_upload, dismissed_other")


@pytest.mark.parametrize(("call", "reason", "message"), [
    pytest.param(lambda: close(3, Status.ACKNOWLEDGED, LI, NOW, None, "looked"), Refusal.NO_CLOSURE_CODE,
                 f"Cannot close alert 3: expected a closure code (one of {CODES}), got none.", id="close-no-code"),
    pytest.param(lambda: close(3, Status.ACKNOWLEDGED, LI, NOW, ClosureCode.DISMISSED_OTHER, "  "), Refusal.NO_NOTE,
                 "Cannot close alert 3: expected a non-empty note (what was checked and found), got '  '.",
                 id="close-blank-note"),
    pytest.param(lambda: close(3, Status.NEW, LI, NOW, ClosureCode.CONFIRMED_FRAUD, "x"), Refusal.NOT_ACKNOWLEDGED,
                 "Cannot close alert 3: expected an acknowledged alert, got new; acknowledge it first.",
                 id="close-unacknowledged"),
    pytest.param(lambda: close(3, Status.CONFIRMED, LI, NOW, ClosureCode.CONFIRMED_FRAUD, "x"), Refusal.CLOSED,
                 "Cannot close alert 3: it is closed (confirmed); reopen it first if it needs another look.",
                 id="close-closed"),
    pytest.param(lambda: acknowledge(3, Status.DISMISSED, LI, NOW), Refusal.CLOSED,
                 "Cannot acknowledge alert 3: it is closed (dismissed); reopen it first if it needs another look.",
                 id="ack-closed"),
    pytest.param(lambda: acknowledge(3, Status.WITHDRAWN, LI, NOW), Refusal.WITHDRAWN,
                 "Cannot acknowledge alert 3: it was withdrawn by the system (later events showed it was not a hit).",
                 id="ack-withdrawn"),
    pytest.param(lambda: acknowledge(3, Status.ACKNOWLEDGED, LI, NOW), Refusal.ALREADY_ACKNOWLEDGED,
                 "Cannot acknowledge alert 3: it is already acknowledged.", id="ack-twice"),
    pytest.param(lambda: acknowledge(3, Status.NEW, VIEWER, NOW), Refusal.NOT_PERMITTED,
                 "Cannot acknowledge alert 3: expected an actor with role auditor, got 'wang' (viewer).",
                 id="ack-by-viewer"),
    pytest.param(lambda: close(3, Status.ACKNOWLEDGED, VIEWER, NOW, ClosureCode.CONFIRMED_FRAUD, "x"),
                 Refusal.NOT_PERMITTED,
                 "Cannot close alert 3: expected an actor with role auditor, got 'wang' (viewer).",
                 id="close-by-viewer"),
    pytest.param(lambda: reopen(3, Status.DISMISSED, VIEWER, NOW, "x"), Refusal.NOT_PERMITTED,
                 "Cannot reopen alert 3: expected an actor with role auditor or system, got 'wang' (viewer).",
                 id="reopen-by-viewer"),
    pytest.param(lambda: acknowledge(3, Status.NEW, SYSTEM, NOW), Refusal.NOT_PERMITTED,
                 "Cannot acknowledge alert 3: expected an actor with role auditor, got 'system' (system).",
                 id="ack-by-system"),
    pytest.param(lambda: reopen(3, Status.NEW, LI, NOW, "x"), Refusal.NOT_CLOSED,
                 "Cannot reopen alert 3: expected a closed alert, got new.", id="reopen-open"),
    pytest.param(lambda: reopen(3, Status.DISMISSED, LI, NOW, ""), Refusal.NO_NOTE,
                 "Cannot reopen alert 3: expected a non-empty note (why it needs another look), got ''.",
                 id="reopen-no-note"),
    pytest.param(lambda: reopen(3, Status.CONFIRMED, SYSTEM, NOW, "new evidence"), Refusal.CLOSED,
                 "Cannot reopen alert 3: it is confirmed; new evidence opens a follow-up alert instead.",
                 id="system-reopen-confirmed"),
    pytest.param(lambda: reopen(3, Status.WITHDRAWN, LI, NOW, "x"), Refusal.WITHDRAWN,
                 "Cannot reopen alert 3: it was withdrawn by the system; a new hit on its subject opens a new alert.",
                 id="reopen-withdrawn"),
    pytest.param(lambda: escalate(3, Status.CONFIRMED, NOW, "x"), Refusal.CLOSED,
                 "Cannot escalate alert 3: it is closed (confirmed); reopen it first if it needs another look.",
                 id="escalate-closed"),
    pytest.param(lambda: withdraw(3, Status.DISMISSED, NOW), Refusal.CLOSED,
                 "Cannot withdraw alert 3: it is closed (dismissed); reopen it first if it needs another look.",
                 id="withdraw-closed"),
])
def test_refusal(call, reason: Refusal, message: str) -> None:  # type: ignore[no-untyped-def]
    refused = _refusal(call)
    assert (refused.reason, str(refused), refused.alert_id) == (reason, message, 3)


def test_every_closure_code_has_an_outcome_by_its_prefix_and_a_description() -> None:
    for code in ClosureCode:
        assert code.outcome is (Outcome.CONFIRMED if code.value.startswith("confirmed_") else Outcome.DISMISSED)
        assert "/" in code.description
    assert {c.outcome for c in ClosureCode} == set(Outcome)


def test_replay_refuses_a_broken_trail() -> None:
    first = raised(5, NOW).record
    closing = close(5, Status.ACKNOWLEDGED, LI, NOW, ClosureCode.DISMISSED_OTHER, "n").record
    with pytest.raises(AlertError, match="breaks at record 1 \\(close\\): expected it to start from new, got "
                                         "acknowledged"):
        replay([first, closing])


# -- random action sequences -------------------------------------------------------------------------

ACTORS = st.sampled_from([LI, VIEWER, SYSTEM, Actor("zhao", Role.AUDITOR)])
COMMANDS = st.one_of(
    st.tuples(st.just("acknowledge"), ACTORS, st.text(max_size=3)),
    st.tuples(st.just("close"), ACTORS, st.one_of(st.none(), st.sampled_from(ClosureCode)), st.text(max_size=3)),
    st.tuples(st.just("reopen"), ACTORS, st.text(max_size=3)),
    st.tuples(st.just("escalate"), st.text(max_size=3)),
    st.tuples(st.just("withdraw")),
)


def _run(status: Status, command: tuple, at: dt.datetime):  # type: ignore[no-untyped-def,type-arg]
    name, *args = command
    if name == "acknowledge":
        return acknowledge(9, status, args[0], at, args[1])
    if name == "close":
        return close(9, status, args[0], at, args[1], args[2])
    if name == "reopen":
        return reopen(9, status, args[0], at, args[1])
    if name == "escalate":
        return escalate(9, status, at, args[0])
    return withdraw(9, status, at)


@settings(max_examples=300, deadline=None)
@given(st.lists(COMMANDS, max_size=25))
def test_random_sequences_stay_valid_and_the_audit_trail_replays_to_the_status(
        commands: list) -> None:  # type: ignore[type-arg]
    first = raised(9, NOW)
    status, trail = first.status, [first.record]
    for index, command in enumerate(commands):
        at = NOW + dt.timedelta(minutes=index)
        try:
            step = _run(status, command, at)
        except TransitionRefused as refused:
            assert refused.alert_id == 9 and str(refused).startswith(f"Cannot {command[0]} alert 9: ")
            continue
        record = step.record
        # invariants of every accepted step
        assert record.from_status is status and record.to_status is step.status and record.at == at
        assert (record.role is Role.VIEWER) is False
        assert (record.action is Action.CLOSE) == (record.closure is not None)
        if record.action is Action.CLOSE:
            assert status is Status.ACKNOWLEDGED and record.note.strip() and not step.status.is_open
            assert step.status.value == record.closure.outcome.value
        if record.action is Action.REOPEN:
            assert status in (Status.DISMISSED, Status.CONFIRMED) and record.note
            assert not (record.role is Role.SYSTEM and status is Status.CONFIRMED)
        if status is Status.WITHDRAWN:
            pytest.fail(f"a withdrawn alert accepted {record.action}")
        status = step.status
        trail.append(record)
    assert replay(trail) is status
