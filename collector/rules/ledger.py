"""The county ledger's view of one code: its lifecycle state, overall and per store.

Pure: a function of the SET of the code's events (deduplicated by (store, id), ordered by
(at, store, seq, id)), so late or repeated delivery gives the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from collector.rules.model import CodeState
from drugtrace.events import PurchaseReturn, Receipt, Sale, SaleReturn, ScanRefused, StockChange, Stocktake

CodeEvent = Receipt | PurchaseReturn | StockChange | Stocktake | Sale | SaleReturn | ScanRefused
"""The events that concern one traceability code (a case receipt concerns every box it `contains`)."""


def ordered(events: Iterable[CodeEvent]) -> list[CodeEvent]:
    """The events without repeats of (store, id), in (at, store, seq, id) order."""
    raise NotImplementedError


def code_lifecycle(events: Iterable[CodeEvent]) -> CodeState:
    """The code's county-wide state after all its events (UNKNOWN when none moved it)."""
    raise NotImplementedError


def store_states(events: Iterable[CodeEvent]) -> Mapping[str, CodeState]:
    """The code's state as each store that touched it last left it."""
    raise NotImplementedError
