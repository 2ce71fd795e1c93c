"""The ledger service reads settlements only for codes whose history holds a sale return.

That saves a document look-up per sale on the ingest path, and is right only while rule 7
(swipe-then-return) is the one rule that reads settlements, from a sale return on. These tests
hold the rules to it: should a rule start reading settlements otherwise, they fail, and
LedgerService._settlements must read more.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from collector.rules import DEFAULT_SETTINGS, evaluate_code
from drugtrace.events import SaleReturn
from tests.collector.rules.test_properties import CODES, NOWS, streams


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_without_a_sale_return_settlements_change_no_hit(stream) -> None:  # type: ignore[no-untyped-def]
    events, paid = stream
    for code in CODES:
        history = [e for e in events if not isinstance(e, SaleReturn)]
        for now in NOWS:
            assert evaluate_code(history, paid, now, DEFAULT_SETTINGS, code=code) == \
                evaluate_code(history, {}, now, DEFAULT_SETTINGS, code=code)
