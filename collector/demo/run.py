"""`drugtrace-collector demo`: set up the county in one folder, start the collector and the agents,
replay the scenario, wait for the collector's verdict, print the summary, stop cleanly."""

from __future__ import annotations

import datetime as dt
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from collector.demo.county import CountySetup, DemoError, Timing, notifiers_available, prepare, wipe
from collector.demo.county_processes import RunningCounty
from collector.demo.plan import Scenario
from collector.demo.processes import run_tool
from collector.demo.replay import Replay
from collector.demo.scenario import DEFAULT_SEED, FULL, SHORT, build_scenario, store_list
from collector.demo.summary import AlertRow, Verdict, judge, read_alerts, render
from collector.demo.webhook import WebhookReceiver, describe
from collector.rules.settings import DEFAULT_SETTINGS

ADMIN = "demo-admin"
SETTLE_MARGIN_S = 3.0  # after a threshold runs out: the collector's next periodic pass, plus its commit
OVERTIME_S = 60.0  # how long past the thresholds the demo waits for a missing alert before calling it missing


@dataclass(frozen=True)
class DemoOptions:
    data: Path
    short: bool = False
    stores: int | None = None
    keep_running: bool = False
    seed: int = DEFAULT_SEED


class Printer:
    """Thread-safe lines with the time since the start."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            self.out.write(f"[demo {time.monotonic() - self.started:6.1f}s] {text}\n")
            self.out.flush()

    def block(self, lines: list[str]) -> None:
        with self._lock:
            self.out.write("\n".join(lines) + "\n")
            self.out.flush()


def _local_today() -> dt.date:
    return dt.datetime.now(DEFAULT_SETTINGS.tz).date()


def _dashboard_login(setup: CountySetup, say: Printer) -> str | None:
    """An admin account for the dashboard, through `drugtrace-collector users add`; None if unavailable."""
    password = secrets.token_urlsafe(12)
    result = run_tool(["-m", "collector.cli", "users", "add", ADMIN, "--role", "admin", "--config",
                       str(setup.collector_config)], setup.data, stdin_text=password + "\n")
    if result.returncode != 0:
        say(f"dashboard login not created ({(result.stderr or result.stdout).strip()[:200]})")
        return None
    login = setup.data / "dashboard-login.txt"
    login.write_text(f"{setup.dashboard}\nuser: {ADMIN}\npassword: {password}\n")
    login.chmod(0o600)
    return password


def _wait_for_verdict(scenario: Scenario, county: RunningCounty, replay: Replay, timing: Timing,
                      webhook: WebhookReceiver | None, say: Printer, on_alert: Callable[[AlertRow], None]) -> Verdict:
    """Until every time-based threshold has run out and every committed event is in the ledger, and
    every planted pattern is found (or OVERTIME_S more passed)."""
    progress = replay.progress
    ready_at = max([progress.last_sale + timing.grace_s]
                   + [moment + timing.silent_s for moment in progress.silenced.values()]) + SETTLE_MARGIN_S
    give_up = ready_at + OVERTIME_S
    say(f"waiting for the collector's time-based rules (grace {timing.grace_s:g} s, silence {timing.silent_s:g} s) "
        f"and its last alerts, about {max(0.0, ready_at - time.monotonic()):.0f} s …")
    seen: set[int] = set()
    while True:
        alerts = read_alerts(county.setup.ledger)
        for alert in alerts:
            if alert.id not in seen:
                seen.add(alert.id)
                on_alert(alert)
        verdict = judge(scenario.planted, alerts)
        now = time.monotonic()
        complete = now >= ready_at and not verdict.missing and not county.not_yet_in_ledger()
        notified = webhook is None or _notified(webhook) >= {a.identity for _, a in verdict.found if a}
        if (complete and notified) or now > give_up:
            return verdict
        time.sleep(0.25)  # polling the ledger file: the collector offers no push channel to the demo


def _notified(webhook: WebhookReceiver) -> set[tuple[str, str]]:
    identities = set()
    for payload in list(webhook.notifications):
        alert = payload.get("alert")
        if isinstance(alert, dict):
            identities.add((str(alert.get("rule")), str(alert.get("subject"))))
    return identities


def _raise_interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def run_demo(options: DemoOptions, out: TextIO = sys.stdout) -> int:
    """The whole demo; returns the exit status (0: every pattern found, no false alert)."""
    say = Printer(out)
    size = SHORT if options.short else FULL
    stores = options.stores or size.stores
    timing = Timing()
    data = options.data.resolve()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if wipe(data):
        say(f"data folder {data}: wiped (the earlier demo's data is gone), recreated")
    else:
        say(f"data folder {data}: created")
    webhook = None
    if notifiers_available():
        webhook = WebhookReceiver(lambda payload: say(f"webhook ← {describe(payload)}")).start()
    try:
        return _run(options, data, stores, timing, webhook, say)
    except KeyboardInterrupt:
        say("interrupted (Ctrl-C)")
        return 130
    except DemoError as exc:
        say(f"demo failed: {exc}")
        return 2
    finally:
        if webhook is not None:
            webhook.stop()


def _run(options: DemoOptions, data: Path, stores: int, timing: Timing, webhook: WebhookReceiver | None,
         say: Printer) -> int:
    day = _local_today()
    setup = prepare(data, tuple((s.store, s.name) for s in store_list(stores)), timing,
                    webhook.url if webhook else None)
    scenario = build_scenario(day=day, county_key=setup.county_key, stores=stores, short=options.short,
                              seed=options.seed)
    say(f"scenario: county {setup.config.county}, {len(scenario.stores)} stores, day {day}, seed {scenario.seed}, "
        f"{len(scenario.steps())} documents/steps, {scenario.scan_count()} scans, "
        f"{len(scenario.planted)} planted patterns, {len(scenario.look_alikes)} look-alikes")
    password = _dashboard_login(setup, say)
    county = RunningCounty(setup, say)
    try:
        collector = county.start_collector()
        say(f"collector pid {collector.pid}: embedded MQTT broker on 127.0.0.1:{setup.config.broker.port}, "
            f"ledger {setup.ledger}, log {collector.log_path}")
        county.start_agents()
        for store in setup.stores:
            child = county.agents[store.store]
            say(f"agent {store.store} {store.name} pid {child.pid}: POS API {store.api}, scanner pty "
                f"{store.scanner_link} -> {store.scanner_link.resolve()}, log {child.log_path}")
        login = f" (login {ADMIN} / {password}, also in {data / 'dashboard-login.txt'})" if password else ""
        say(f"dashboard: {setup.dashboard}{login}; metrics: {setup.dashboard}metrics")
        say(f"webhook receiver: {webhook.url}" if webhook else
            "webhook receiver: not started (the collector has no [notify] yet): alerts are read from the ledger")
        say("replaying the day (every code through a pty scanner or the POS API) …")
        replay = Replay(scenario, county.counters, county, say)
        progress = replay.run()
        say(f"replayed {progress.documents} documents, {progress.scans} scans")
        verdict = _wait_for_verdict(
            scenario, county, replay, timing, webhook, say,
            lambda a: None if webhook else say(f"alert #{a.id} {a.severity} {a.rule} {a.subject} [{a.stores}]"))
        lines = ["", "Planted patterns and the alerts the collector raised:", *render(verdict)]
        if webhook is not None:
            covered = _notified(webhook) & {p.identity for p in scenario.planted}
            lines.append(f"webhook notifications received: {webhook.count()} (repeats {webhook.repeats}), covering "
                         f"{len(covered)}/{len(scenario.planted)} planted patterns")
        lines.append("look-alikes replayed (legitimate, must raise nothing): "
                     + "; ".join(f"{la.story} [{la.resembles.value}]" for la in scenario.look_alikes))
        lines += [f"where to look: {setup.dashboard}, `drugtrace-collector alerts list --state all --config "
                  f"{setup.collector_config}`, logs under {data}", ""]
        say.block(lines)
        (data / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if options.keep_running:
            say("the county keeps running (--keep-running): explore the dashboard; Ctrl-C to stop")
            threading.Event().wait()
        return 0 if verdict.ok else 1
    except KeyboardInterrupt:
        say("interrupted (Ctrl-C): stopping the county …")
        return 130
    except DemoError as exc:
        say(f"demo failed: {exc}")
        return 2
    finally:
        codes = county.stop()
        say("stopped: " + ", ".join(f"{name} exit {code}" for name, code in codes.items())
            + f"; data kept in {data}")
