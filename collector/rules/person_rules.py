"""Rule 9 of DOMAIN §4: one insured pseudonym buying one product beyond the limits.

Pure and order-free: the hits depend only on the set of purchases (deduplicated by
(store, settlement event id)).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from collector.rules.model import Hit
from collector.rules.settings import DEFAULT_SETTINGS, RuleSettings
from drugtrace.events import Settlement


@dataclass(frozen=True)
class Purchase:
    """One settled line bought with insurance by one pseudonym (from a Settlement)."""

    person: str
    product: str
    quantity: int
    at: dt.datetime
    store: str
    event_id: str  # the Settlement event's id (the evidence)


def purchases_of(settlement: Settlement) -> list[Purchase]:
    """The insurance purchases a settlement records (none for self-pay or without a person)."""
    raise NotImplementedError


def evaluate_person(purchases: Iterable[Purchase], settings: RuleSettings = DEFAULT_SETTINGS) -> list[Hit]:
    """One hit per (person, product) whose purchases exceed the quantity or count limit in any
    window of `settings.purchase_window`, with every purchase of the exceeding windows as evidence."""
    raise NotImplementedError
