"""Rules 10 and 11 of DOMAIN §4: a store's collection rate per day, and its liveness and clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from collector.rules.model import Hit
from collector.rules.settings import DEFAULT_SETTINGS, OpeningHours, RuleSettings
from drugtrace.events import Heartbeat, Settlement


def evaluate_collection(
    store: str, day: dt.date, settlements: Iterable[Settlement], settings: RuleSettings = DEFAULT_SETTINGS,
) -> list[Hit]:
    """Rule 10: the store's collection rate on `day` (local, `settings.tz`) over its insurance
    settlements; overridden lines count as not collected, exempt lines are left out. Settlements
    of other stores or days are ignored."""
    raise NotImplementedError


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

    `opening_hours` defaults to `settings.opening_hours`.
    """
    raise NotImplementedError
