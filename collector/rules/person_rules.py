"""Rule 9 of DOMAIN §4: one insured pseudonym buying one product beyond the limits.

Pure and order-free: the hits depend only on the set of purchases (deduplicated by
(store, settlement event id, product)), so late delivery gives the same hits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from collector.rules.model import Hit, Rule, person_subject
from collector.rules.settings import DEFAULT_SETTINGS, RuleSettings
from drugtrace.events import Payment, Settlement


@dataclass(frozen=True)
class Purchase:
    """What one insurance settlement bought of one product for one pseudonym."""

    person: str
    product: str
    quantity: int
    at: dt.datetime
    store: str
    event_id: str  # the Settlement event's id (the evidence)


def purchases_of(settlement: Settlement) -> list[Purchase]:
    """The insurance purchases a settlement records, one per product (lines of one product are
    added up); none for self-pay or without a person."""
    if settlement.payment is not Payment.INSURANCE or not settlement.person:
        return []
    quantities: dict[str, int] = {}
    for line in settlement.lines:
        quantities[line.product] = quantities.get(line.product, 0) + line.quantity
    return [
        Purchase(person=settlement.person, product=product, quantity=quantity, at=settlement.at,
                 store=settlement.store, event_id=settlement.id)
        for product, quantity in sorted(quantities.items()) if quantity > 0
    ]


def within_limits(settlements: Sequence[Settlement], settings: RuleSettings = DEFAULT_SETTINGS) -> bool:
    """True when one person's settlements cannot break rule 9 in any window: all their insurance
    purchases together (every product, all time) stay within both limits, so `evaluate_person`
    finds nothing and the purchases need not be built (most people, most days)."""
    count = quantity = 0
    for settlement in settlements:
        if settlement.payment is Payment.INSURANCE and settlement.person:
            count += 1
            quantity += sum(line.quantity for line in settlement.lines)
    return count <= settings.purchase_max_count and quantity <= settings.purchase_max_quantity


def _unique(purchases: Iterable[Purchase]) -> dict[tuple[str, str], list[Purchase]]:
    """Purchases grouped by (person, product), repeats of (store, event id) dropped, in time order."""
    chosen: dict[tuple[str, str, str], Purchase] = {}
    for purchase in purchases:
        identity = (purchase.store, purchase.event_id, purchase.product)
        kept = chosen.get(identity)
        if kept is None or (purchase.quantity, purchase.person) > (kept.quantity, kept.person):
            chosen[identity] = purchase
    groups: dict[tuple[str, str], list[Purchase]] = {}
    for purchase in chosen.values():
        groups.setdefault((purchase.person, purchase.product), []).append(purchase)
    for group in groups.values():
        group.sort(key=lambda p: (p.at, p.store, p.event_id))
    return groups


def _excess(group: list[Purchase], settings: RuleSettings) -> Hit | None:
    """Slide a window of `purchase_window` over one (person, product)'s purchases."""
    window = settings.purchase_window
    evidence: set[Purchase] = set()
    most_quantity = most_count = 0
    start = quantity = 0
    for end, purchase in enumerate(group):
        quantity += purchase.quantity
        while purchase.at - group[start].at >= window:
            quantity -= group[start].quantity
            start += 1
        count = end - start + 1
        if quantity > settings.purchase_max_quantity or count > settings.purchase_max_count:
            evidence.update(group[start:end + 1])
            most_quantity = max(most_quantity, quantity)
            most_count = max(most_count, count)
    if not evidence:
        return None
    first = group[0]
    return Hit(
        rule=Rule.EXCESS_PURCHASES, severity=Rule.EXCESS_PURCHASES.severity,
        subject=person_subject(first.person, first.product),
        stores=tuple(sorted({p.store for p in evidence})), code=None,
        evidence=tuple(sorted({p.event_id for p in evidence})),
        detail=(f"{first.product} bought up to {most_quantity} units in up to {most_count} settlements within "
                f"{settings.purchase_window_days:g} days (limits {settings.purchase_max_quantity} units, "
                f"{settings.purchase_max_count} settlements)"),
    )


def evaluate_person(purchases: Iterable[Purchase], settings: RuleSettings = DEFAULT_SETTINGS) -> list[Hit]:
    """One hit per (person, product) whose purchases exceed the quantity or count limit in any
    window of `settings.purchase_window`, with every purchase of the exceeding windows as evidence."""
    hits = [_excess(group, settings) for group in _unique(purchases).values()]
    return sorted((hit for hit in hits if hit is not None), key=lambda hit: hit.subject)
