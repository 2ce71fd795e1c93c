"""Products, codes and a context for the pure counter tests."""

from __future__ import annotations

import datetime as dt
import itertools

from agent.catalogue import ExemptCategory, Product
from agent.counter import Context
from agent.ports import LocalCodeState

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
AMOX = Product("XA01", "阿莫西林胶囊", ("8123456", "09501101530003"), True, units_per_box=24)
IBU = Product("XB02", "布洛芬缓释胶囊", ("8234567",), True, units_per_box=20)
HERB = Product("ZA01", "当归（饮片）", (), False, exempt_category=ExemptCategory.HERBAL_PIECES)
OLD = Product("XC03", "维生素C片（无码库）", ("8345678",), True, no_code_list=True, units_per_box=100)


def nmpa(product_key: str, n: int) -> str:
    """A 20-digit 码上放心 code of `product_key`."""
    return f"{product_key}{n:013d}"


def context(states: dict[str, LocalCodeState] | None = None, now: dt.datetime = NOW) -> Context:
    counter = itertools.count(1)
    known = states or {}
    return Context(store="S001", now=now, new_id=lambda: f"E{next(counter):04d}", code_state=known.get)
