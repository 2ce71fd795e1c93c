"""Rules 1-8 of DOMAIN §4: what one code's history across the county proves.

`evaluate_code` is a pure function of the SET of a code's events, the settlements of the
sale documents involved, `now` and the settings: any delivery order, and any repeat of an
event, gives the same hits. The collector re-evaluates a code from its whole history whenever
a new event of it (or a settlement of a document that sold it) arrives, and whenever
`recheck_at` says time alone may change the answer (rule 6's grace period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from collector.rules._active import ActiveSales
from collector.rules.errors import RuleInputError
from collector.rules.ledger import CodeEvent, HistoryRow, concerns, order_key, ordered, without_rescans
from collector.rules.model import Hit, Rule, Severity
from collector.rules.settings import DEFAULT_SETTINGS, RuleSettings
from drugtrace.events import (
    Event, Payment, PurchaseReturn, Receipt, Sale, SaleReturn, ScanRefused, Settlement, Stocktake,
)

Catalogue = Mapping[str, frozenset[str]]
"""Billed product id (med_list_codg) → the product keys its codes may carry."""

Settlements = Mapping[tuple[str, str], Settlement]
"""(store, doc) → the settlement that paid that sale document."""

_LEADS = {
    Rule.SOLD_TWICE_SAME_STORE: "whole box sold again at the same store before any return",
    Rule.SOLD_AT_TWO_STORES: "sold at another store while an earlier sale was not returned",
    Rule.SPLIT_PACK_ABUSE: "repeated sales of one box that are not a legitimate split pack",
    Rule.RECEIVED_AFTER_SALE: "received while sold and not returned",
    Rule.RECEIVED_TWICE: "received by a second store without a purchase return between",
    Rule.NO_PROVENANCE: "sold without a receipt or stocktake at that store within the grace period",
    Rule.SWIPE_RETURN_CYCLE: "returned soon after an insurance settlement, then sold again on insurance",
    Rule.PRODUCT_MISMATCH: "the code's product key is not the billed product's",
}

_NOUNS = {
    Receipt: "receipt", Sale: "sale", SaleReturn: "sale return", PurchaseReturn: "purchase return",
    Stocktake: "stocktake", ScanRefused: "refused scan", Settlement: "settlement",
}


class _Finding:
    """Evidence gathered for one rule while replaying a code's history."""

    __slots__ = ("evidence", "severity")

    def __init__(self, severity: Severity) -> None:
        self.evidence: dict[tuple[str, str], Event] = {}
        self.severity = severity

    def add_one(self, event: Event) -> None:
        self.evidence[(event.store, event.id)] = event

    def add(self, events: Iterable[Event], severity: Severity | None = None) -> None:
        for event in events:
            self.evidence[(event.store, event.id)] = event
        if severity is not None and severity > self.severity:
            self.severity = severity

    def hit(self, rule: Rule, code: str) -> Hit:
        stores = tuple(sorted({store for store, _ in self.evidence}))
        ids = tuple(sorted({event_id for _, event_id in self.evidence}))
        return Hit(rule=rule, severity=self.severity, subject=code, stores=stores, code=code, evidence=ids,
                   detail=f"{_LEADS[rule]}: {_describe(self.evidence.values())}")


def _describe(events: Iterable[Event]) -> str:
    """E.g. ``sale at S1 ×2, S2; receipt at S3`` (deterministic for a set of events)."""
    counts: dict[str, dict[str, int]] = {}
    for event in events:
        per_store = counts.setdefault(_NOUNS.get(type(event), type(event).__name__), {})
        per_store[event.store] = per_store.get(event.store, 0) + 1
    parts = []
    for noun in sorted(counts):
        where = ", ".join(f"{store} ×{n}" if n > 1 else store for store, n in sorted(counts[noun].items()))
        parts.append(f"{noun} at {where}")
    return "; ".join(parts)


def _infer_code(events: Sequence[CodeEvent]) -> str | None:
    keys = {e.code.key for e in events if e.code is not None and not (isinstance(e, Receipt) and e.contains)}
    if not keys:
        keys = {e.code.key for e in events if e.code is not None}
    if len(keys) > 1:
        raise RuleInputError(f"Expected the events of one code, got {len(keys)} codes: {', '.join(sorted(keys)[:3])}.")
    return next(iter(keys), None)


def _history(
    events: Iterable[CodeEvent], code: str | None, settings: RuleSettings,
) -> tuple[str | None, list[CodeEvent]]:
    listed = events if isinstance(events, list) else list(events)
    if code is None:
        code = _infer_code(listed)
        if code is None:
            return None, []
    relevant = [event for event in listed if concerns(event, code)]
    return code, without_rescans(ordered(relevant), settings.rescan_window)


def _insured(settlements: Settlements, store: str, doc: str) -> Settlement | None:
    settlement = settlements.get((store, doc))
    return settlement if settlement is not None and settlement.payment is Payment.INSURANCE else None


def _repeat_rule(sale: Sale, stats: tuple[int, int, int, int]) -> Rule | None:
    """Which rule a sale breaks given the un-returned sales already at its store (rules 1, 3):
    (whole sales, split sales, split units, smallest units per box) there."""
    whole, split, units, per_box = stats
    if sale.trdn_flag == 0:
        return Rule.SOLD_TWICE_SAME_STORE if split == 0 else Rule.SPLIT_PACK_ABUSE
    if whole:
        return Rule.SPLIT_PACK_ABUSE
    return Rule.SPLIT_PACK_ABUSE if units + sale.units > min(per_box, sale.units_per_box) else None


def evaluate_code(
    events: Iterable[CodeEvent],
    settlements: Settlements,
    now: dt.datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
    catalogue: Catalogue | None = None,
    *,
    code: str | None = None,
) -> list[Hit]:
    """Every hit of rules 1-8 on one code, at most one per rule, sorted by rule number.

    `events` are the code's events (any order, repeats allowed). `code` is its identity key;
    when omitted it is taken from the events (a case receipt counts for `code` when the key is
    among its `contains`). Events of other codes are ignored.
    """
    return judge_code(events, settlements, now, settings, catalogue, code=code).hits


@dataclass(frozen=True)
class CodeVerdict:
    """What one evaluation of a code found: its hits and when time alone may change them."""

    hits: list[Hit]
    recheck: dt.datetime | None  # see `recheck_at`


def judge_code(
    events: Iterable[CodeEvent],
    settlements: Settlements,
    now: dt.datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
    catalogue: Catalogue | None = None,
    *,
    code: str | None = None,
) -> CodeVerdict:
    """`evaluate_code` and `recheck_at` from one replay of the history (what the collector calls)."""
    if code is not None and _unremarkable(events, code, catalogue):
        return CodeVerdict([], None)
    return _replay(events, settlements, now, settings, catalogue, code)


def _mismatched(sale: Sale, catalogue: Catalogue | None) -> bool:
    """Rule 8 on one sale: its code's product key is not among the billed product's."""
    if catalogue is None or sale.code is None or sale.code.product_key is None:
        return False
    keys = catalogue.get(sale.product)
    return keys is not None and sale.code.product_key not in keys


def _scanned(event: CodeEvent, kind: type, code: str) -> bool:
    """The event is exactly a `kind` of the box `code` itself (not of a case holding it)."""
    return type(event) is kind and event.code is not None and event.code.key == code


def _unremarkable(events: Iterable[CodeEvent], code: str, catalogue: Catalogue | None) -> bool:
    """True for the histories most codes have: the box's receipt alone, or its receipt then its
    sale at the same store (two events, no case, no repeat) with the product the catalogue expects.
    No rule can hit them and no grace period runs, so `judge_code` skips the replay; the property
    test in tests/collector/rules/test_properties.py holds this to what the replay finds."""
    if not isinstance(events, list) or not 0 < len(events) <= 2:
        return False
    if len(events) == 1:
        return _scanned(events[0], Receipt, code)
    received, sold = events if type(events[0]) is Receipt else events[::-1]
    return (_scanned(received, Receipt, code) and _scanned(sold, Sale, code) and received.store == sold.store
            and received.id != sold.id and order_key(received) < order_key(sold)
            and not _mismatched(sold, catalogue))  # type: ignore[arg-type]


_RECEIPT, _SALE = Receipt.__struct_config__.tag, Sale.__struct_config__.tag


def unremarkable_rows(rows: Sequence[HistoryRow], catalogue: Catalogue | None = None) -> bool:
    """`_unremarkable` on the ledger's columns, before any body is decoded: the box's own receipt
    alone, or its receipt then its sale at one store. With a catalogue only the lone receipt
    qualifies (rule 8 reads the sale's product key from its body). True means `judge_code` finds no
    hit and no recheck; tests/collector/rules/test_properties.py holds it to the replay."""
    if len(rows) == 1:
        only = rows[0]
        return only.direct and only.type == _RECEIPT
    if len(rows) != 2 or catalogue is not None:
        return False
    received, sold = rows if rows[0].type == _RECEIPT else (rows[1], rows[0])
    return (received.type == _RECEIPT and sold.type == _SALE and received.direct and sold.direct
            and received.store == sold.store and received.id != sold.id
            and (received.at, received.seq, received.id) < (sold.at, sold.seq, sold.id))


def _replay(events: Iterable[CodeEvent], settlements: Settlements, now: dt.datetime, settings: RuleSettings,
            catalogue: Catalogue | None, code: str | None) -> CodeVerdict:
    """`judge_code` by replaying the whole history, whatever its shape."""
    code, history = _history(events, code, settings)
    if code is None or not history:
        return CodeVerdict([], None)
    findings: dict[Rule, _Finding] = {}

    def finding(rule: Rule) -> _Finding:
        found = findings.get(rule)
        if found is None:
            found = findings[rule] = _Finding(rule.severity)
        return found

    active = ActiveSales()  # un-returned sales
    held: dict[str, list[Receipt]] = {}  # receipts per store not followed by a purchase return there
    provenance: dict[str, dt.datetime] = {}  # earliest receipt or stocktake per store
    sales: list[Sale] = []
    grace = settings.provenance_grace
    cycles: list[tuple[Event, ...]] = []  # (sale, its insurance settlement, the quick return)
    for event in history:
        store = event.store
        if isinstance(event, Sale):
            sales.append(event)
            if active:
                if active.elsewhere(store):
                    found = finding(Rule.SOLD_AT_TWO_STORES)
                    active.add_new_to(found.add_one, Rule.SOLD_AT_TWO_STORES)
                    found.add_one(event)
                stats = active.repeat_rule_input(store)
                rule = _repeat_rule(event, stats) if stats is not None else None
                if rule is not None:
                    found = finding(rule)
                    active.add_new_to(found.add_one, (rule, store), store)
                    found.add_one(event)
            active.add(event)
            if _mismatched(event, catalogue):
                finding(Rule.PRODUCT_MISMATCH).add([event], Severity.HIGH)
            if cycles:  # the next sale after quick returns: on insurance, the cycle is complete
                resold = _insured(settlements, store, event.doc)
                if resold is not None:
                    for cycle in cycles:
                        finding(Rule.SWIPE_RETURN_CYCLE).add(cycle + (event, resold))
                cycles = []
        elif isinstance(event, Receipt):
            if active:
                # A store's own receipt scanned late (within the grace, no provenance there yet)
                # explains its sale; any other un-returned sale makes this receipt a 回流.
                late = store not in provenance
                sold = [s for s in active.all.values()
                        if not (late and s.store == store and event.at - s.at <= grace)]
                if sold:
                    finding(Rule.RECEIVED_AFTER_SALE).add(sold + [event])
            else:
                elsewhere = [r for other, receipts in held.items() if other != store for r in receipts]
                if elsewhere:
                    finding(Rule.RECEIVED_TWICE).add(elsewhere + [event])
            held.setdefault(store, []).append(event)
            provenance.setdefault(store, event.at)
        elif isinstance(event, SaleReturn):
            for sale in active.close(event):
                paid = _insured(settlements, sale.store, sale.doc)
                if paid is not None and dt.timedelta(0) <= event.at - paid.at <= settings.swipe_return_window:
                    cycles.append((sale, paid, event))
        elif isinstance(event, Stocktake):
            provenance.setdefault(store, event.at)
        elif isinstance(event, PurchaseReturn):
            held.pop(store, None)
        elif isinstance(event, ScanRefused):
            if event.problem in settings.mismatch_problems:
                finding(Rule.PRODUCT_MISMATCH).add([event])
    due: dt.datetime | None = None
    for sale in sales:
        deadline = sale.at + grace
        first = provenance.get(sale.store)
        if first is not None and first <= deadline:
            continue
        if now >= deadline:
            finding(Rule.NO_PROVENANCE).add([sale])
        elif due is None or deadline < due:
            due = deadline
    return CodeVerdict([findings[rule].hit(rule, code) for rule in sorted(findings, key=lambda r: r.number)], due)


def recheck_at(
    events: Iterable[CodeEvent],
    now: dt.datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
    *,
    code: str | None = None,
) -> dt.datetime | None:
    """The earliest moment after `now` at which evaluating again, with no new event, could add a
    hit (a sale's provenance grace running out), or None when only new events can change it."""
    code, history = _history(events, code, settings)
    provenance: dict[str, dt.datetime] = {}
    for event in history:
        if isinstance(event, (Receipt, Stocktake)):
            provenance.setdefault(event.store, event.at)
    grace = settings.provenance_grace
    due = [
        sale.at + grace for sale in history
        if isinstance(sale, Sale) and sale.at + grace > now
        and not (sale.store in provenance and provenance[sale.store] <= sale.at + grace)
    ]
    return min(due) if due else None
