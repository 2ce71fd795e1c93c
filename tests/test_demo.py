"""The county demo: the scenario generator (pure), its verdict, its webhook receiver, and the whole
demo run to its end as a real subprocess (collector + agent processes + pty scanners)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from collections import Counter as Tally
from pathlib import Path

import pytest
import requests

from collector.demo.county import MARKER, DemoError, wipe
from collector.demo.plan import Expect, Planted, Return, Sale, Stock, StockKind
from collector.demo.products import CODED
from collector.demo.scenario import build_scenario, collected_boxes
from collector.demo.summary import AlertRow, judge, read_alerts
from collector.demo.webhook import WebhookReceiver
from collector.rules.model import Rule, person_subject, store_day_subject, store_subject
from drugtrace.codes import classify
from drugtrace.pseudonym import pseudonymise

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 3, 15)
KEY = b"demo-test-county-key-0123456789abcdef"


def scenario(short: bool = True, stores: int = 4, seed: int = 7):  # type: ignore[no-untyped-def]
    return build_scenario(day=DAY, county_key=KEY, short=short, stores=stores, seed=seed)


# -- the scenario generator -------------------------------------------------------------------------

@pytest.mark.parametrize(("short", "stores"), [(True, 4), (False, 6), (False, 10)])
def test_every_rule_is_planted_with_a_unique_subject_and_look_alikes(short: bool, stores: int) -> None:
    plan = scenario(short, stores)
    assert {p.rule.number for p in plan.planted} == set(range(1, 12))
    identities = [p.identity for p in plan.planted]
    assert len(set(identities)) == len(identities)
    assert len({p.subject for p in plan.planted}) == len(plan.planted)
    resembled = {look.resembles for look in plan.look_alikes}
    assert {Rule.SOLD_TWICE_SAME_STORE, Rule.SPLIT_PACK_ABUSE, Rule.RECEIVED_TWICE, Rule.NO_PROVENANCE,
            Rule.SWIPE_RETURN_CYCLE, Rule.PRODUCT_MISMATCH, Rule.EXCESS_PURCHASES, Rule.COLLECTION_GAP} <= resembled


def test_the_same_seed_gives_the_same_day_and_another_seed_other_codes() -> None:
    assert scenario(seed=1) == scenario(seed=1)
    assert {p.subject for p in scenario(seed=1).planted} != {p.subject for p in scenario(seed=2).planted}


def _scanned(plan) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(store, kind, raw) of every scan the counter must accept."""
    found = []
    for step in plan.steps():
        if isinstance(step, (Stock, Sale)):
            kind = step.kind.value if isinstance(step, Stock) else "sale"
            found += [(step.store, kind, s.raw) for s in step.scans
                      if s.expect in (Expect.ACCEPTED, Expect.EXPIRED_AT_RECEIPT)]
        elif isinstance(step, Return):
            found += [(step.store, "sale_return", b.raw) for b in step.boxes]
    return found


def test_code_subjects_are_the_identity_keys_of_codes_the_replay_scans() -> None:
    plan = scenario()
    raws = {raw for _, _, raw in _scanned(plan)} | {
        s.raw for step in plan.steps() if isinstance(step, Sale) for s in step.scans}
    keys = {classify(raw).identity_key for raw in raws}
    code_rules = [p for p in plan.planted if p.rule.number <= 8]
    assert len(code_rules) == 8 and all(p.subject in keys for p in code_rules)


def test_person_store_and_day_subjects_come_from_the_same_inputs() -> None:
    plan = scenario()
    by_rule = {p.rule: p for p in plan.planted}
    d = by_rule[Rule.STORE_SILENT].stores[0]
    assert by_rule[Rule.STORE_SILENT].subject == store_subject(d)
    assert by_rule[Rule.COLLECTION_GAP].subject == store_day_subject(d, "2026-03-15")
    buyers = Tally(step.psn_no for step in plan.steps() if isinstance(step, Sale) and step.psn_no)
    heavy = [psn for psn, count in buyers.items() if count == 3]
    assert by_rule[Rule.EXCESS_PURCHASES].subject in {person_subject(pseudonymise(psn, KEY), product.product_id)
                                                      for psn in heavy for product in CODED}


def test_no_insured_person_but_the_two_planted_buyers_buys_twice() -> None:
    plan = scenario(short=False, stores=6)
    buyers = Tally(step.psn_no for step in plan.steps() if isinstance(step, Sale) and step.psn_no)
    assert sorted(count for count in buyers.values() if count > 1) == [3, 3]


def test_ordinary_sales_sell_only_boxes_the_store_received_that_morning() -> None:
    plan = scenario(short=False, stores=6)
    received = {(store, raw) for store, kind, raw in _scanned(plan) if kind in ("receipt", "stocktake")}
    planted_raws = {s.raw for step in plan.steps() if isinstance(step, Sale) and not step.ref.startswith("S")
                    for s in step.scans}
    for store, kind, raw in _scanned(plan):
        if kind == "sale" and raw not in planted_raws:
            assert (store, raw) in received, (store, raw)


def test_collection_rates_one_store_below_the_threshold_and_the_look_alike_above() -> None:
    plan = scenario(short=False, stores=6)
    gap = next(p for p in plan.planted if p.rule is Rule.COLLECTION_GAP).stores[0]
    rates = {}
    for store in (s.store for s in plan.stores):
        sales = [s for s in plan.steps() if isinstance(s, Sale) and s.store == store and s.insurance and not s.cancel]
        collected = sum(collected_boxes(s) for s in sales)
        overridden = sum(line.quantity for s in sales for line in s.lines if line.override)
        rates[store] = collected / (collected + overridden)
    assert rates[gap] < 0.95
    assert all(rate >= 0.95 for store, rate in rates.items() if store != gap)
    assert any(line.override for s in plan.steps() if isinstance(s, Sale) and s.store != gap for line in s.lines)


def test_stock_documents_list_every_box_they_scan() -> None:
    for step in scenario(short=False, stores=6).steps():
        if isinstance(step, Stock):
            assert sum(line.quantity for line in step.lines) == len(step.scans)
            assert step.kind is not StockKind.RECEIPT or step.supplier


def test_store_count_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="Expected 4 to 10 stores, got 3."):
        scenario(stores=3)


# -- verdict, data folder, webhook receiver -----------------------------------------------------------

def test_judge_reports_found_missing_and_false_alerts() -> None:
    planted = (Planted(Rule.STORE_SILENT, "store:S04", ("S04",), "silent"),
               Planted(Rule.NO_PROVENANCE, "8123", ("S04",), "no receipt"))
    alerts = [AlertRow(1, "store_silent", "store:S04", "open", "medium", "S04"),
              AlertRow(2, "store_silent", "store:S01", "withdrawn", "medium", "S01")]
    verdict = judge(planted, alerts)
    assert verdict.missing == (planted[1],)
    assert verdict.unexplained == (alerts[1],)
    assert not verdict.ok
    assert judge(planted[:1], alerts[:1]).ok


def test_wipe_refuses_a_folder_no_demo_made(tmp_path: Path) -> None:
    (tmp_path / "thesis.txt").write_text("precious")
    with pytest.raises(DemoError, match="Expected .* to be empty or an earlier demo's folder"):
        wipe(tmp_path)
    assert (tmp_path / "thesis.txt").exists()
    demo = tmp_path / "demo"
    assert wipe(demo) is False and (demo / MARKER).exists()
    (demo / "old").mkdir()
    assert wipe(demo) is True and not (demo / "old").exists() and (demo / MARKER).exists()


def test_webhook_receiver_keeps_each_notification_once_and_refuses_garbage() -> None:
    printed = []
    receiver = WebhookReceiver(printed.append).start()
    try:
        payload = {"idempotency_key": "n-1", "kind": "new", "alert": {"rule": "store_silent", "subject": "store:S1"}}
        for _ in range(2):
            assert requests.post(receiver.url, json=payload, timeout=5).status_code == 200
        assert requests.post(receiver.url, data=b"not json", timeout=5).status_code == 400
    finally:
        receiver.stop()
    assert printed == [payload] and receiver.repeats == 1 and len(receiver.rejected) == 1


# -- the whole demo, as the README runs it ----------------------------------------------------------

def _demo(data: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "collector.cli", "demo", "--short", "--data", str(data), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
def test_short_demo_finds_every_planted_pattern_and_no_false_alert(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    process = _demo(data)
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output
    assert "planted patterns found: 11/11; false alerts: 0; verdict: OK" in output
    assert re.search(r"stopped: (agent S0\d exit 0, ){4}collector exit 0", output), output
    for pid in re.findall(r" pid (\d+)", output):
        assert _gone(int(pid))
    # the same verdict from the collector's own database, with subjects computed again from the
    # county key and day the run used
    day = dt.date.fromisoformat(re.search(r"day (\d{4}-\d\d-\d\d)", output).group(1))  # type: ignore[union-attr]
    key = (data / "county.key").read_bytes().strip()
    plan = build_scenario(day=day, county_key=key, short=True, stores=4)
    alerts = read_alerts(data / "collector" / "ledger.db")
    verdict = judge(plan.planted, alerts)
    assert verdict.ok, (verdict.missing, verdict.unexplained)
    assert len(alerts) == len(plan.planted)
    # every planted alert reached the local webhook receiver through the collector's notifier
    assert re.search(r"webhook notifications received: \d+ \(repeats 0\), covering 11/11 planted", output), output
    assert (data / "summary.txt").read_text().count("found") >= 11
    assert (data / "stores" / "S01" / "agent.log").exists() and (data / "collector" / "collector.log").exists()


@pytest.mark.slow
def test_ctrl_c_stops_every_process_and_keeps_the_data(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    process = _demo(data, "--keep-running")
    assert process.stdout is not None
    pids = []
    for line in process.stdout:
        pids += [int(pid) for pid in re.findall(r" pid (\d+)", line)]
        if "replaying the day" in line:
            break
    assert len(pids) == 5  # the collector and four agents
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=120)
    assert process.returncode == 130, rest
    assert "interrupted (Ctrl-C): stopping the county" in rest
    assert f"data kept in {data.resolve()}" in rest
    assert all(_gone(pid) for pid in pids)
    assert (data / "collector" / "ledger.db").exists()
