"""The county ledger's rules (DOMAIN §4): pure functions from events to hits.

The collector's store feeds them a code's history, a person's purchases or a store's day, and
records each `Hit` as the one open alert of its (rule, subject). See docs/rules.md.
"""

from collector.rules.camera_rules import Swipe, evaluate_camera, evaluate_store_swipes, evaluate_swipe, swipes
from collector.rules.code_rules import (
    Catalogue, CodeVerdict, Settlements, evaluate_code, judge_code, recheck_at, unremarkable_rows,
)
from collector.rules.ledger import CodeEvent, HistoryRow, code_lifecycle, ordered, store_states
from collector.rules.model import (
    CodeState, Hit, Rule, Scope, Severity, person_subject, settlement_subject, store_day_subject, store_hour_subject,
    store_subject,
)
from collector.rules.person_rules import Purchase, evaluate_person, purchases_of, within_limits
from collector.rules.settings import ALWAYS_OPEN, DEFAULT_SETTINGS, OpeningHours, RuleSettings
from collector.rules.store_rules import evaluate_collection, evaluate_store_health

__all__ = [
    "ALWAYS_OPEN", "Catalogue", "code_lifecycle", "CodeEvent", "CodeState", "CodeVerdict", "DEFAULT_SETTINGS",
    "evaluate_camera", "evaluate_code", "evaluate_collection", "evaluate_person", "evaluate_store_health",
    "evaluate_store_swipes", "evaluate_swipe", "HistoryRow", "Hit", "judge_code", "OpeningHours", "ordered",
    "person_subject", "Purchase", "purchases_of", "recheck_at", "Rule", "RuleSettings", "Scope",
    "settlement_subject", "Settlements", "Severity", "store_day_subject", "store_hour_subject", "store_states",
    "store_subject", "Swipe", "swipes", "unremarkable_rows", "within_limits",
]
