"""Products, codes and a context for the pure counter tests."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

from agent.catalogue import Catalogue, ExemptCategory, Product
from agent.counter import Context
from agent.outbox import SqliteOutbox
from agent.ports import LocalCodeState
from agent.service import CounterService, CounterSettings
from drugtrace.events import AnyEvent
from drugtrace.wire import DecodeFailure, decode_event

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


CATALOGUE = Catalogue.of([AMOX, IBU, HERB, OLD])
KEY = b"county-key-for-tests-0123456789"


class ManualClock:
    """A clock the test moves by hand (the service asks it for `now`)."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_service(path: Path, *, capacity: int = 10_000, clock: ManualClock | None = None,
                 nearly_full_ratio: float = 0.8) -> tuple[CounterService, SqliteOutbox]:
    """A CounterService over a real SqliteOutbox file at `path`."""
    outbox = SqliteOutbox(path, store="S001", capacity=capacity, nearly_full_ratio=nearly_full_ratio)
    service = CounterService(outbox, CATALOGUE, CounterSettings("S001", KEY), clock or ManualClock())
    return service, outbox


def stored_events(outbox: SqliteOutbox) -> list[AnyEvent]:
    """Every event in the outbox not yet acknowledged, decoded from its wire bytes."""
    events = []
    for pending in outbox.pending(1_000_000):
        event = decode_event(pending.body)
        assert not isinstance(event, DecodeFailure), event
        events.append(event)
    return events
