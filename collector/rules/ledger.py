"""The county ledger's view of one code: its lifecycle state, overall and per store.

Pure: a function of the SET of the code's events (deduplicated by (store, id), ordered by
(at, store, seq, id)), so late or repeated delivery gives the same answer.

>>> import datetime as dt
>>> from drugtrace.events import Code, CodeKind, Receipt, Sale
>>> box = Code(key="81234567890123456789", kind=CodeKind.NMPA, product_key="8123456")
>>> t = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
>>> received = Receipt(id="r1", store="S1", seq=1, at=t, supplier="s", invoice="i", product="P", code=box)
>>> sold = Sale(id="s1", store="S1", doc="D1", seq=2, at=t + dt.timedelta(hours=1), line=1, product="P",
...             code=box, price_fen=100)
>>> code_lifecycle([sold, received, sold])
<CodeState.SOLD: 'sold'>
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from collector.rules.model import CodeState
from collector.rules.settings import DEFAULT_SETTINGS, RuleSettings
from drugtrace.events import (
    PurchaseReturn, Receipt, Sale, SaleReturn, ScanRefused, StockChange, StockChangeKind, Stocktake,
)

CodeEvent = Receipt | PurchaseReturn | StockChange | Stocktake | Sale | SaleReturn | ScanRefused
"""The events that concern one traceability code (a case receipt concerns every box it `contains`)."""


class HistoryRow(NamedTuple):
    """One event of a code's history as the ledger's columns give it, with its body undecoded:
    enough to recognise the usual histories without decoding them (`code_rules.unremarkable_rows`)."""

    type: str  # the event's wire tag (`receipt`, `sale`, ...)
    store: str
    id: str
    at: str  # store clock in `collector.store.base.stamp` form: sorts as the time does
    seq: int
    direct: bool  # the event's own code is the code (False: a case receipt that lists it)
    body: bytes  # the event as received


_GONE = frozenset({StockChangeKind.DESTROYED, StockChangeKind.DAMAGED, StockChangeKind.LOSS})


def order_key(event: CodeEvent) -> tuple[dt.datetime, str, int, str, str]:
    """Where an event falls in its code's history: by store clock, then store, seq, id, hash."""
    return (event.at, event.store, event.seq, event.id, event.hash)


def ordered(events: Iterable[CodeEvent]) -> list[CodeEvent]:
    """The events without repeats of (store, id), in (at, store, seq, id) order.

    Should two different events claim one (store, id), the first in that order is kept, so the
    result still depends only on the set of events given.
    """
    result = events if isinstance(events, list) else list(events)
    if len(result) < 2:
        return list(result)
    result = sorted(result, key=order_key)
    seen: set[tuple[str, str]] = set()
    unique: list[CodeEvent] = []
    for event in result:
        identity = (event.store, event.id)
        if identity not in seen:
            seen.add(identity)
            unique.append(event)
    return unique


def concerns(event: CodeEvent, code: str) -> bool:
    """True when the event is about the code `code` (directly, or as a box of a received case)."""
    if event.code is not None and event.code.key == code:
        return True
    return isinstance(event, Receipt) and code in event.contains


def without_rescans(events: Iterable[CodeEvent], window: dt.timedelta) -> list[CodeEvent]:
    """Ordered events minus sales that repeat an earlier kept sale of the same store and
    document within `window` (a scan repeated by mistake, not a second sale)."""
    kept: list[CodeEvent] = []
    last_sale: dict[tuple[str, str], dt.datetime] = {}
    for event in events:
        if isinstance(event, Sale):
            where = (event.store, event.doc)
            previous = last_sale.get(where)
            if previous is not None and event.at - previous <= window:
                continue
            last_sale[where] = event.at
        kept.append(event)
    return kept


class _Lifecycle:
    """Replays a code's events into the county-wide and per-store states."""

    def __init__(self) -> None:
        self.state = CodeState.UNKNOWN
        self.stores: dict[str, CodeState] = {}
        self._split_units: dict[str, int] = {}

    def apply(self, event: CodeEvent) -> None:
        state = self._next(event)
        if state is not None:
            self.state = state
            self.stores[event.store] = state

    def _next(self, event: CodeEvent) -> CodeState | None:
        store = event.store
        if isinstance(event, Receipt):
            self._split_units.pop(store, None)
            return CodeState.RECEIVED
        if isinstance(event, Stocktake):
            return CodeState.IN_STOCK
        if isinstance(event, Sale):
            if event.trdn_flag == 0:
                return CodeState.SOLD
            units = self._split_units.get(store, 0) + event.units
            self._split_units[store] = units
            return CodeState.EXHAUSTED if units >= event.units_per_box else CodeState.OPENED
        if isinstance(event, SaleReturn):
            self._split_units.pop(store, None)
            return CodeState.RETURNED
        if isinstance(event, PurchaseReturn):
            return CodeState.PURCHASE_RETURNED
        if isinstance(event, StockChange) and event.change in _GONE:
            return CodeState.DESTROYED
        return None


def _replay(events: Iterable[CodeEvent], settings: RuleSettings) -> _Lifecycle:
    lifecycle = _Lifecycle()
    for event in without_rescans(ordered(events), settings.rescan_window):
        lifecycle.apply(event)
    return lifecycle


def code_lifecycle(events: Iterable[CodeEvent], settings: RuleSettings = DEFAULT_SETTINGS) -> CodeState:
    """The code's county-wide state after all its events (UNKNOWN when none moved it)."""
    return _replay(events, settings).state


def store_states(events: Iterable[CodeEvent], settings: RuleSettings = DEFAULT_SETTINGS) -> Mapping[str, CodeState]:
    """The code's state as each store that touched it last left it."""
    return dict(sorted(_replay(events, settings).stores.items()))
