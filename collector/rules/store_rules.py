"""Rules 10 and 11 of DOMAIN §4: a store's collection rate per day, and its liveness and clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from collector.rules.errors import RuleInputError
from collector.rules.model import Hit, Rule, store_day_subject, store_subject
from collector.rules.settings import DEFAULT_SETTINGS, OpeningHours, RuleSettings
from drugtrace.events import Heartbeat, Payment, Settlement


def evaluate_collection(
    store: str, day: dt.date, settlements: Iterable[Settlement], settings: RuleSettings = DEFAULT_SETTINGS,
) -> list[Hit]:
    """Rule 10: the store's collection rate on `day` (local, `settings.tz`) over its insurance
    settlements; overridden lines count as not collected, exempt lines are left out. Settlements
    of other stores or days, and repeats of one (store, id), are ignored."""
    tz = settings.tz
    chosen: dict[str, Settlement] = {}
    for settlement in settlements:
        if (settlement.store == store and settlement.payment is Payment.INSURANCE
                and settlement.at.astimezone(tz).date() == day):
            chosen.setdefault(settlement.id, settlement)
    required = collected = 0
    short: set[str] = set()
    for settlement in chosen.values():
        for line in settlement.lines:
            if line.exempt or line.boxes_required == 0:
                continue
            got = 0 if line.overridden else min(line.codes, line.boxes_required)
            required += line.boxes_required
            collected += got
            if got < line.boxes_required:
                short.add(settlement.id)
    if required < settings.collection_min_boxes or collected >= settings.collection_threshold * required:
        return []
    return [Hit(
        rule=Rule.COLLECTION_GAP, severity=Rule.COLLECTION_GAP.severity,
        subject=store_day_subject(store, day.isoformat()), stores=(store,), code=None,
        evidence=tuple(sorted(short)),
        detail=(f"codes collected for {collected} of {required} boxes ({collected / required:.1%}) in insurance "
                f"settlements on {day.isoformat()}, below {settings.collection_threshold:.0%}"),
    )]


def evaluate_store_health(
    store: str,
    last_heartbeat: Heartbeat | None,
    received_at: dt.datetime | None,
    now: dt.datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
    opening_hours: OpeningHours | None = None,
    *,
    expected_since: dt.datetime | None = None,
) -> list[Hit]:
    """Rule 11: STORE_SILENT when more than `settings.silent_after` of opening hours passed since
    the last heartbeat was received (`received_at`, collector clock) — or since `expected_since`
    for a store never heard from; CLOCK_SKEW when that heartbeat's store clock (`at`) disagrees
    with `received_at` by more than `settings.clock_skew`.

    A store clock *behind* is judged only on a heartbeat that reported an empty outbox: one that
    waited in the outbox while the store was offline arrives late by design, not from a bad clock.
    `opening_hours` defaults to `settings.opening_hours`.
    """
    if (last_heartbeat is None) != (received_at is None):
        raise RuleInputError("Expected last_heartbeat and received_at both given or both None, got only one.")
    hits: list[Hit] = []
    hours = opening_hours if opening_hours is not None else settings.opening_hours
    since = received_at if received_at is not None else expected_since
    if since is not None and hours.open_time_between(since, now, settings.tz) > settings.silent_after:
        heard = (f"last heartbeat received {received_at.astimezone(settings.tz).isoformat()}"
                 if received_at is not None else
                 f"no heartbeat since {since.astimezone(settings.tz).isoformat()}")
        hits.append(Hit(
            rule=Rule.STORE_SILENT, severity=Rule.STORE_SILENT.severity, subject=store_subject(store),
            stores=(store,), code=None, evidence=(last_heartbeat.id,) if last_heartbeat is not None else (),
            detail=f"silent for more than {settings.silent_after_minutes:g} minutes of opening hours; {heard}",
        ))
    if last_heartbeat is not None and received_at is not None:
        skew = last_heartbeat.at - received_at
        ahead = skew > settings.clock_skew
        behind = -skew > settings.clock_skew and last_heartbeat.outbox_depth == 0
        if ahead or behind:
            hits.append(Hit(
                rule=Rule.CLOCK_SKEW, severity=Rule.CLOCK_SKEW.severity, subject=store_subject(store),
                stores=(store,), code=None, evidence=(last_heartbeat.id,),
                detail=(f"store clock {'ahead' if ahead else 'behind'} by {abs(skew).total_seconds():.0f} s "
                        f"(limit {settings.clock_skew_seconds:g} s)"),
            ))
    return hits
