"""Rules 1-8 of DOMAIN §4: what one code's history across the county proves.

`evaluate_code` is a pure function of the SET of a code's events, the settlements of the
sale documents involved, `now` and the settings: any delivery order, and any repeat of an
event, gives the same hits. The collector re-evaluates a code from its whole history whenever
a new event of it (or a settlement of a document that sold it) arrives, and whenever
`recheck_at` says time alone may change the answer (rule 6's grace period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from collector.rules.ledger import CodeEvent
from collector.rules.model import Hit
from collector.rules.settings import DEFAULT_SETTINGS, RuleSettings
from drugtrace.events import Settlement

Catalogue = Mapping[str, frozenset[str]]
"""Billed product id (med_list_codg) → the product keys its codes may carry."""

Settlements = Mapping[tuple[str, str], Settlement]
"""(store, doc) → the settlement that paid that sale document."""


def evaluate_code(
    events: Iterable[CodeEvent],
    settlements: Settlements,
    now: dt.datetime,
    settings: RuleSettings = DEFAULT_SETTINGS,
    catalogue: Catalogue | None = None,
    *,
    code: str | None = None,
) -> list[Hit]:
    """Every hit of rules 1-8 on one code, at most one per rule, sorted by rule.

    `events` are the code's events (any order, repeats allowed). `code` is its identity key;
    when omitted it is taken from the events (a case receipt counts for `code` when the key is
    among its `contains`). Events of other codes are ignored.
    """
    raise NotImplementedError


def recheck_at(
    events: Iterable[CodeEvent],
    settings: RuleSettings = DEFAULT_SETTINGS,
    *,
    code: str | None = None,
) -> dt.datetime | None:
    """When evaluating again with no new event could add a hit (a sale's provenance grace
    running out), or None when only new events can change the answer."""
    raise NotImplementedError
