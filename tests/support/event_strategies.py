"""Hypothesis strategies for every wire event, derived from the msgspec schema itself.

Deriving from `msgspec.inspect` keeps the strategies true when the schema grows a field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

from drugtrace.events import EVENT_TYPES
from drugtrace.wire import seal

_times = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31),
    timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=8))]),
)


def _for(info: mi.Type) -> st.SearchStrategy[Any]:
    if isinstance(info, mi.StrType):
        return st.text(min_size=info.min_length or 0, max_size=min(info.max_length or 30, 30))
    if isinstance(info, mi.IntType):
        low = info.ge if info.ge is not None else -(2**31)
        high = info.le if info.le is not None else 2**40
        return st.integers(low, high)
    if isinstance(info, mi.FloatType):
        return st.floats(min_value=info.ge if info.ge is not None else -1e9, max_value=1e9, allow_nan=False)
    if isinstance(info, mi.BoolType):
        return st.booleans()
    if isinstance(info, mi.DateTimeType):
        return _times
    if isinstance(info, mi.DateType):
        return st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))
    if isinstance(info, mi.EnumType):
        return st.sampled_from(list(info.cls))
    if isinstance(info, mi.NoneType):
        return st.none()
    if isinstance(info, mi.UnionType):
        return st.one_of([_for(t) for t in info.types])
    if isinstance(info, mi.ListType):
        return st.lists(_for(info.item_type), max_size=3)
    if isinstance(info, mi.StructType):
        return struct_strategy(info.cls)
    raise TypeError(f"no strategy for {info!r}")


def struct_strategy(cls: type[msgspec.Struct]) -> st.SearchStrategy[Any]:
    info = mi.type_info(cls)
    fields = {f.name: _for(f.type) for f in info.fields if f.name not in ("v", "hash")}
    return st.builds(cls, **fields)


any_event: st.SearchStrategy[Any] = st.one_of([struct_strategy(cls) for cls in EVENT_TYPES]).map(seal)
