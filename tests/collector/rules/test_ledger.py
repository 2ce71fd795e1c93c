"""The code lifecycle (DOMAIN §4) replayed from a code's events, overall and per store."""

from __future__ import annotations

import doctest

import pytest

import collector.rules.ledger
import collector.rules.settings
from collector.rules import CodeState, code_lifecycle, ordered, store_states
from drugtrace.events import StockChangeKind
from tests.collector.rules.builders import (
    purchase_return, receipt, refused, sale, sale_return, stock_change, stocktake, t,
)


@pytest.mark.parametrize("label, events, state", [
    ("nothing", [], CodeState.UNKNOWN),
    ("only a refused scan", [refused("q1", "S1", t(), "product_mismatch")], CodeState.UNKNOWN),
    ("received", [receipt("r1", "S1", t())], CodeState.RECEIVED),
    ("found at stocktake", [receipt("r1", "S1", t()), stocktake("k1", "S1", t(days=1))], CodeState.IN_STOCK),
    ("sold", [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1")], CodeState.SOLD),
    ("opened", [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1", split=(4, 24))], CodeState.OPENED),
    ("exhausted", [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1", split=(20, 24)),
                   sale("s2", "S1", t(hours=2), "D2", split=(4, 24))], CodeState.EXHAUSTED),
    ("a split re-scan does not count twice", [receipt("r1", "S1", t()),
                                              sale("s1", "S1", t(hours=1), "D1", split=(12, 24)),
                                              sale("s2", "S1", t(hours=1, seconds=3), "D1", split=(12, 24))],
     CodeState.OPENED),
    ("returned", [sale("s1", "S1", t(hours=1), "D1"), sale_return("x1", "S1", t(hours=2), "D1")], CodeState.RETURNED),
    ("purchase returned", [receipt("r1", "S1", t()), purchase_return("p1", "S1", t(days=1))],
     CodeState.PURCHASE_RETURNED),
    ("destroyed", [receipt("r1", "S1", t()), stock_change("d1", "S1", t(days=1), StockChangeKind.DESTROYED)],
     CodeState.DESTROYED),
    ("an 'other' stock change leaves the state", [receipt("r1", "S1", t()),
                                                  stock_change("d1", "S1", t(days=1), StockChangeKind.OTHER)],
     CodeState.RECEIVED),
])
def test_code_lifecycle(label, events, state):
    assert code_lifecycle(events) is state
    assert code_lifecycle(list(reversed(events)) + events) is state


def test_store_states():
    events = [receipt("r1", "S1", t()), sale("s1", "S1", t(hours=1), "D1"), receipt("r2", "S2", t(days=1)),
              stocktake("k3", "S3", t(days=2))]
    assert store_states(events) == {"S1": CodeState.SOLD, "S2": CodeState.RECEIVED, "S3": CodeState.IN_STOCK}
    assert code_lifecycle(events) is CodeState.IN_STOCK


def test_ordered_drops_repeats_and_sorts_by_time_store_seq():
    a, b, c = receipt("r1", "S2", t()), receipt("r2", "S1", t()), sale("s1", "S1", t(hours=1), "D1")
    assert [e.id for e in ordered([c, a, b, c, a])] == ["r2", "r1", "s1"]


@pytest.mark.parametrize("module", [collector.rules.ledger, collector.rules.settings])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
