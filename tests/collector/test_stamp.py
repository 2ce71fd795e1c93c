"""`stamp()` (collector.store.base) writes the text the ledger sorts and compares times by."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from collector.store.base import stamp

offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
moments = st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=offsets)


@given(moments)
def test_stamp_is_the_utc_isoformat_with_microseconds(moment: dt.datetime) -> None:
    assert stamp(moment) == moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


@given(moments, moments)
def test_stamps_sort_as_the_times_do(a: dt.datetime, b: dt.datetime) -> None:
    assert (stamp(a) < stamp(b)) == (a < b)


def test_a_whole_second_keeps_its_fraction() -> None:
    moment = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert stamp(moment) == "2026-11-23T01:00:00.000000+00:00"
