"""The rules' thresholds (DOMAIN §4 defaults; the collector's config embeds them as `[rules]`).

Durations are plain numbers in the unit their name says, so a TOML file reads naturally::

    [rules]
    provenance_grace_hours = 72
    collection_threshold = 0.95
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, NamedTuple

import msgspec
from msgspec import Meta

Positive = Annotated[float, Meta(gt=0)]
NonNegative = Annotated[float, Meta(ge=0)]


class OpeningHours(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A store's daily opening hours in local time; `closes` before `opens` spans midnight,
    `closes` equal to `opens` means open around the clock."""

    opens: dt.time = dt.time(8, 0)
    closes: dt.time = dt.time(22, 0)

    def open_time_between(self, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo) -> dt.timedelta:
        """How much of [start, end) falls inside opening hours (local days in `tz`).

        >>> cst = dt.timezone(dt.timedelta(hours=8))
        >>> OpeningHours().open_time_between(dt.datetime(2026, 1, 1, 21, 50, tzinfo=cst),
        ...                                  dt.datetime(2026, 1, 2, 8, 10, tzinfo=cst), cst)
        datetime.timedelta(seconds=1200)
        """
        if end <= start:
            return dt.timedelta(0)
        if self.opens == self.closes:
            return end - start
        total = dt.timedelta(0)
        day = start.astimezone(tz).date() - dt.timedelta(days=1)  # an overnight opening may begin the day before
        last = end.astimezone(tz).date()
        while day <= last:
            opens = dt.datetime.combine(day, self.opens, tzinfo=tz)
            closes = dt.datetime.combine(day, self.closes, tzinfo=tz)
            if closes <= opens:
                closes += dt.timedelta(days=1)
            overlap = min(end, closes) - max(start, opens)
            if overlap > dt.timedelta(0):
                total += overlap
            day += dt.timedelta(days=1)
        return total


ALWAYS_OPEN = OpeningHours(opens=dt.time(0, 0), closes=dt.time(0, 0))


class RuleSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, cache_hash=True):
    """Every threshold of every rule, with the defaults documented in docs/rules.md."""

    # 1-3: two scans of one code in one document within this many seconds are one scan (input mistake).
    rescan_window_seconds: NonNegative = 60.0
    # 6: a sale's receipt may arrive this late before the sale is "without provenance".
    provenance_grace_hours: NonNegative = 72.0
    # 7: a sale return this soon after its insurance settlement, then an insurance resale, is a cycle.
    swipe_return_window_days: NonNegative = 10.0
    # 8: ScanRefused.problem values that mean "the code's product key is not the billed product's".
    mismatch_problems: tuple[str, ...] = ("product_mismatch",)
    # 9: per insured pseudonym and product, within any window of this many days, at most ...
    purchase_window_days: Positive = 30.0
    purchase_max_quantity: Annotated[int, Meta(ge=1)] = 10  # ... this quantity (sum of settled lines)
    purchase_max_count: Annotated[int, Meta(ge=1)] = 6  # ... and this many settlements
    # 10: collected ÷ required boxes per store and local day must reach this ratio ...
    collection_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.95
    collection_min_boxes: Annotated[int, Meta(ge=1)] = 1  # ... judged once this many boxes were required
    # 11: no heartbeat for this many minutes of opening hours; clock off by more than this many seconds.
    silent_after_minutes: Positive = 15.0
    clock_skew_seconds: Positive = 300.0
    # 12-17 camera rules (DOMAIN §5, our thresholds), on insurance settlements with camera evidence:
    camera_min_frames: Annotated[int, Meta(ge=1)] = 5  # 12: frames a working camera must have analysed
    unseen_min_codes: Annotated[int, Meta(ge=1)] = 1  # 14: sold codes the camera never saw, at least
    cluster_window_minutes: Positive = 5.0  # 16: within any window this long ...
    cluster_min_persons: Annotated[int, Meta(ge=2)] = 3  # ... this many pseudonyms, one person seen each time
    footfall_min_settlements: Annotated[int, Meta(ge=1)] = 6  # 17: per local hour, at least this many ...
    footfall_ratio: Positive = 3.0  # ... and more than this many times the people seen
    # Local time of the county (China Standard Time), for days (rule 10) and opening hours (rule 11).
    utc_offset_hours: Annotated[float, Meta(ge=-14, le=14)] = 8.0
    opening_hours: OpeningHours = OpeningHours()

    @property
    def rescan_window(self) -> dt.timedelta:
        return _durations(self).rescan_window

    @property
    def provenance_grace(self) -> dt.timedelta:
        return _durations(self).provenance_grace

    @property
    def swipe_return_window(self) -> dt.timedelta:
        return _durations(self).swipe_return_window

    @property
    def purchase_window(self) -> dt.timedelta:
        return _durations(self).purchase_window

    @property
    def silent_after(self) -> dt.timedelta:
        return _durations(self).silent_after

    @property
    def clock_skew(self) -> dt.timedelta:
        return _durations(self).clock_skew

    @property
    def cluster_window(self) -> dt.timedelta:
        return _durations(self).cluster_window

    @property
    def tz(self) -> dt.timezone:
        return dt.timezone(dt.timedelta(hours=self.utc_offset_hours))


class _Durations(NamedTuple):
    rescan_window: dt.timedelta
    provenance_grace: dt.timedelta
    swipe_return_window: dt.timedelta
    purchase_window: dt.timedelta
    silent_after: dt.timedelta
    clock_skew: dt.timedelta
    cluster_window: dt.timedelta


@functools.lru_cache(maxsize=16)
def _durations(settings: RuleSettings) -> _Durations:
    """The settings' durations, made once per settings value (the rules ask for them on every call)."""
    return _Durations(
        rescan_window=dt.timedelta(seconds=settings.rescan_window_seconds),
        provenance_grace=dt.timedelta(hours=settings.provenance_grace_hours),
        swipe_return_window=dt.timedelta(days=settings.swipe_return_window_days),
        purchase_window=dt.timedelta(days=settings.purchase_window_days),
        silent_after=dt.timedelta(minutes=settings.silent_after_minutes),
        clock_skew=dt.timedelta(seconds=settings.clock_skew_seconds),
        cluster_window=dt.timedelta(minutes=settings.cluster_window_minutes),
    )


DEFAULT_SETTINGS = RuleSettings()
