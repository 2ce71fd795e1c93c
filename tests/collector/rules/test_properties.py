"""Late, out-of-order and repeated delivery give the same hits; evaluating is idempotent.

Streams are drawn from a small world (three stores, two codes, a few documents, times that
collide and fall inside and outside the re-scan window and the grace period) so that the
rules actually fire and interact, then shuffled and salted with repeats.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.ingest.decode import to_row
from collector.rules import (
    DEFAULT_SETTINGS, CodeVerdict, HistoryRow, Rule, code_lifecycle, evaluate_code, evaluate_collection,
    evaluate_person, judge_code, purchases_of, recheck_at, store_states, unremarkable_rows,
)
from collector.rules.code_rules import _replay, _unremarkable
from collector.rules.ledger import concerns, ordered, without_rescans
from drugtrace.events import Payment, Sale, SaleReturn, Settlement, StockChangeKind
from tests.collector.rules.builders import (
    CODE, PRODUCT, PRODUCT_KEY, T0, line, purchase_return, receipt, refused, sale, sale_return, settlement, stock_change, stocktake, t,
)

STORES = ("S1", "S2", "S3")
CODES = (CODE, "81234567890123400000")
DOCS = ("D1", "D2", "D3")
PERSONS = ("p_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "p_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
KINDS = ("receipt", "case", "stocktake", "sale", "split", "return", "purchase_return", "destroyed", "refused")
NOWS = (t(hours=80), t(days=40))

_times = st.builds(lambda h, s: t(hours=h, seconds=s), st.integers(0, 120), st.sampled_from([0, 0, 5, 90]))


@st.composite
def streams(draw, codes=CODES):
    """(events of a few codes, settlements of their sale documents)."""
    events = []
    for i in range(draw(st.integers(1, 14))):
        kind, store, at, doc = (draw(st.sampled_from(KINDS)), draw(st.sampled_from(STORES)), draw(_times),
                                draw(st.sampled_from(DOCS)))
        code = draw(st.sampled_from(codes))
        eid = f"e{i:02}"
        if kind == "receipt":
            events.append(receipt(eid, store, at, code=code, doc=doc))
        elif kind == "case":
            events.append(receipt(eid, store, at, code="82222222222222222222", doc=doc, contains=list(codes)))
        elif kind == "stocktake":
            events.append(stocktake(eid, store, at, code=code))
        elif kind == "sale":
            events.append(sale(eid, store, at, doc, code=code, line=draw(st.integers(1, 2))))
        elif kind == "split":
            events.append(sale(eid, store, at, doc, code=code, split=(draw(st.integers(1, 16)), 24)))
        elif kind == "return":
            sold = [e for e in events if isinstance(e, Sale)]
            original = draw(st.sampled_from(DOCS + ("DX",)))
            if sold and draw(st.booleans()):  # mostly a return of an earlier sale, at its store
                earlier = draw(st.sampled_from(sold))
                store, original = earlier.store, earlier.doc
                at = earlier.at + dt.timedelta(hours=draw(st.integers(1, 30)))
            events.append(sale_return(eid, store, at, original, code=code))
        elif kind == "purchase_return":
            events.append(purchase_return(eid, store, at, code=code))
        elif kind == "destroyed":
            events.append(stock_change(eid, store, at, StockChangeKind.DESTROYED, code=code))
        else:
            events.append(refused(eid, store, at, draw(st.sampled_from(["product_mismatch", "expired"])), code=code))
    settlements = {}
    for e in events:
        if isinstance(e, Sale) and (e.store, e.doc) not in settlements and draw(st.integers(0, 3)):
            payment = draw(st.sampled_from([Payment.INSURANCE, Payment.INSURANCE, Payment.SELF_PAY]))
            settlements[(e.store, e.doc)] = settlement(
                f"st-{e.store}-{e.doc}", e.store, e.at.replace(second=30), e.doc, payment=payment,
                person=draw(st.sampled_from(PERSONS)), lines=[line(draw(st.integers(1, 6)), draw(st.integers(0, 6)))])
    return events, settlements


def redelivered(events: list, rnd: random.Random) -> list:
    """The same events in another order, some of them several times."""
    again = events + [rnd.choice(events) for _ in range(rnd.randint(0, len(events)))]
    rnd.shuffle(again)
    return again


def all_code_hits(events, settlements, now):
    by_code = defaultdict(list)
    for e in events:
        for code in CODES:
            if (e.code is not None and e.code.key == code) or code in getattr(e, "contains", ()):
                by_code[code].append(e)
    return {hit for code, history in by_code.items()
            for hit in evaluate_code(history, settlements, now, catalogue=None, code=code)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(codes=CODES[:1]), st.randoms(use_true_random=False))
def test_one_code_any_order_and_repeats_give_the_same_hits(stream, rnd):
    events, settlements = stream
    for now in NOWS:
        reference = evaluate_code(events, settlements, now, code=CODE)
        shuffled = redelivered(events, rnd)
        assert evaluate_code(shuffled, settlements, now, code=CODE) == reference
        assert evaluate_code(shuffled, settlements, now, code=CODE) == reference  # idempotent
        assert recheck_at(shuffled, now, code=CODE) == recheck_at(events, now, code=CODE)
        assert len({h.rule for h in reference}) == len(reference)
        assert [h.rule.number for h in reference] == sorted(h.rule.number for h in reference)
        for hit in reference:
            assert hit.subject == hit.code == CODE
            assert list(hit.evidence) == sorted(set(hit.evidence)) and hit.evidence
            assert list(hit.stores) == sorted(set(hit.stores)) and hit.stores
    assert code_lifecycle(redelivered(events, rnd)) is code_lifecycle(events)
    assert store_states(redelivered(events, rnd)) == store_states(events)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.randoms(use_true_random=False))
def test_a_county_stream_in_any_order_gives_the_same_alerts(stream, rnd):
    """Code, person and collection rules over every store's stream, delivered late and twice."""
    events, settlements = stream
    stream_with_settlements = events + list(settlements.values())

    def alerts(delivered):
        settled = {}
        for e in delivered:
            if isinstance(e, Settlement):
                settled.setdefault((e.store, e.doc), e)
        code_events = [e for e in delivered if not isinstance(e, Settlement)]
        hits = all_code_hits(code_events, settled, NOWS[0])
        hits.update(evaluate_person([p for s in settled.values() for p in purchases_of(s)]))
        for store in STORES:
            for day in {e.at.astimezone(T0.tzinfo).date() for e in delivered}:
                hits.update(evaluate_collection(store, day, [e for e in delivered if isinstance(e, Settlement)]))
        return hits

    reference = alerts(stream_with_settlements)
    assert alerts(redelivered(stream_with_settlements, rnd)) == reference
    assert len({(h.rule, h.subject) for h in reference}) == len(reference)  # one alert per (rule, subject)


def test_drawn_streams_cover_the_code_rules():
    """Guard against a vacuous property: the drawn streams make every code rule fire."""
    seen: set[Rule] = set()

    @settings(max_examples=400, deadline=None, database=None, derandomize=True)
    @given(streams(codes=CODES[:1]))
    def collect(stream):
        events, settlements = stream
        seen.update(h.rule for h in evaluate_code(events, settlements, NOWS[1], code=CODE))

    collect()
    assert seen == {rule for rule in Rule if rule.number <= 8}


def _naive_sale_rules(events, settings=DEFAULT_SETTINGS):
    """Rules 1-3 as DOMAIN §4 words them, replayed with plain lists (quadratic, obviously right)."""
    evidence = defaultdict(set)
    active = []
    for e in without_rescans(ordered(events), settings.rescan_window):
        if isinstance(e, Sale):
            if any(s.store != e.store for s in active):
                evidence[Rule.SOLD_AT_TWO_STORES].update(s.id for s in active + [e])
            same = [s for s in active if s.store == e.store]
            if same:
                group = same + [e]
                if all(s.trdn_flag == 0 for s in group):
                    evidence[Rule.SOLD_TWICE_SAME_STORE].update(s.id for s in group)
                elif (any(s.trdn_flag == 0 for s in group)
                      or sum(s.units for s in group) > min(s.units_per_box for s in group)):
                    evidence[Rule.SPLIT_PACK_ABUSE].update(s.id for s in group)
            active.append(e)
        elif isinstance(e, SaleReturn):
            same_doc = [s for s in active if s.doc == e.original_doc]
            closed = [s for s in same_doc if s.store == e.store] or same_doc or [
                s for s in active if s.store == e.store][-1:]
            active = [s for s in active if s not in closed]
    return {rule: tuple(sorted(ids)) for rule, ids in evidence.items()}


@settings(max_examples=300, deadline=None)
@given(streams(codes=CODES[:1]))
def test_sale_rules_match_a_naive_replay(stream):
    """The linear-time bookkeeping of un-returned sales gives the evidence of the plain reading."""
    events, settlements = stream
    hits = evaluate_code(events, settlements, NOWS[0], code=CODE)
    got = {h.rule: h.evidence for h in hits if h.rule.number <= 3}
    assert got == _naive_sale_rules([e for e in events if e.code is not None and e.code.key == CODE])


@settings(max_examples=300, deadline=None)
@given(streams(codes=CODES[:1]), st.sampled_from(NOWS + (t(hours=2), t(hours=30))))
def test_one_replay_judges_as_evaluate_code_and_recheck_at_do(stream, now):
    """`judge_code` (what the collector calls) is `evaluate_code` and `recheck_at` from one replay."""
    events, settlements = stream
    verdict = judge_code(events, settlements, now, code=CODE)
    assert verdict.hits == evaluate_code(events, settlements, now, code=CODE)
    assert verdict.recheck == recheck_at(events, now, code=CODE)


_SHORT_KINDS = ("receipt", "receipt", "sale", "sale", "split", "case", "stocktake", "return")
_CATALOGUES = (None, {PRODUCT: frozenset({PRODUCT_KEY})}, {PRODUCT: frozenset({"6999999"})}, {"XOTHER": frozenset()})


@st.composite
def short_histories(draw):
    """One or two events of a box, drawn so that most are the receipt-then-sale shape `judge_code`
    answers without a replay, and the rest differ from it in one respect (order, store, id, code, kind)."""
    events = []
    for i in range(draw(st.integers(1, 2))):
        kind, store = draw(st.sampled_from(_SHORT_KINDS)), draw(st.sampled_from(STORES[:2]))
        at, code = t(hours=draw(st.integers(0, 100))), draw(st.sampled_from((CODE, CODE, CODE, CODES[1])))
        eid = draw(st.sampled_from((f"e{i}", "e0")))
        if kind == "receipt":
            events.append(receipt(eid, store, at, code=code))
        elif kind == "case":
            events.append(receipt(eid, store, at, code="82222222222222222222", contains=[CODE]))
        elif kind == "stocktake":
            events.append(stocktake(eid, store, at, code=code))
        elif kind == "return":
            events.append(sale_return(eid, store, at, "D1", code=code))
        else:
            events.append(sale(eid, store, at, "D1", code=code, product_key=draw(st.sampled_from((PRODUCT_KEY, None))),
                               split=(3, 24) if kind == "split" else None))
    return events


@settings(max_examples=500, deadline=None)
@given(short_histories(), st.sampled_from(_CATALOGUES), st.sampled_from(NOWS + (t(hours=2),)))
def test_judging_without_a_replay_finds_what_the_replay_finds(events, catalogue, now):
    """`judge_code` skips the replay for a lone receipt or a receipt then a sale at one store."""
    assert judge_code(events, {}, now, catalogue=catalogue, code=CODE) == _replay(
        events, {}, now, DEFAULT_SETTINGS, catalogue, CODE)


def test_the_usual_history_is_judged_without_a_replay():
    """Guard against a vacuous property: the receipt-then-sale shape takes the short way, in any
    input order, and a sale alone or at another store does not."""
    received, sold = receipt("e0", "S1", t(hours=1)), sale("e1", "S1", t(hours=2), "D1")
    assert _unremarkable([received, sold], CODE, None) and _unremarkable([sold, received], CODE, None)
    assert _unremarkable([received], CODE, {PRODUCT: frozenset({PRODUCT_KEY})})
    assert not _unremarkable([sold], CODE, None)
    assert not _unremarkable([received, sale("e1", "S2", t(hours=2), "D1")], CODE, None)
    assert not _unremarkable([received, sold], CODE, {PRODUCT: frozenset({"6999999"})})


def stored_history(events, code=CODE):
    """What the ledger keeps of `code`'s history: the events concerning it, the first of each
    (store, id) only, as the columns `LedgerStore.histories` returns."""
    kept, seen = [], set()
    for event in events:
        if concerns(event, code) and (event.store, event.id) not in seen:
            seen.add((event.store, event.id))
            kept.append(event)
    rows = []
    for event in kept:
        row = to_row(event, "2026-11-23T00:00:00.000000+00:00")
        rows.append(HistoryRow(row.type, row.store, row.id, row.at, row.seq, row.code == code, row.body))
    return kept, rows


@settings(max_examples=500, deadline=None)
@given(short_histories(), st.sampled_from(_CATALOGUES), st.sampled_from(NOWS + (t(hours=2),)))
def test_a_history_judged_on_its_columns_has_no_hit_and_no_recheck(events, catalogue, now):
    """The evaluator decodes no body of a history `unremarkable_rows` accepts: the replay must
    find nothing there, and without a catalogue the columns accept what the decoded events do."""
    kept, rows = stored_history(events)
    if unremarkable_rows(rows, catalogue):
        assert _replay(kept, {}, now, DEFAULT_SETTINGS, catalogue, CODE) == CodeVerdict([], None)
    if catalogue is None:
        assert unremarkable_rows(rows) == _unremarkable(kept, CODE, None)


def test_the_usual_history_is_recognised_on_its_columns():
    """Guard against a vacuous property: receipt then sale at one store, in either storage order."""
    received, sold = receipt("e0", "S1", t(hours=1)), sale("e1", "S1", t(hours=2), "D1")
    assert unremarkable_rows(stored_history([received, sold])[1])
    assert unremarkable_rows(stored_history([sold, received])[1])
    assert unremarkable_rows(stored_history([received])[1], {PRODUCT: frozenset({"6999999"})})
    assert not unremarkable_rows(stored_history([received, sold])[1], {PRODUCT: frozenset({PRODUCT_KEY})})
    assert not unremarkable_rows(stored_history([sold])[1])
    assert not unremarkable_rows(stored_history([received, sale("e1", "S2", t(hours=2), "D1")])[1])
    case = receipt("e0", "S1", t(hours=1), code="82222222222222222222", contains=[CODE])
    assert not unremarkable_rows(stored_history([case, sold])[1])
