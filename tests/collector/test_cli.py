"""The command line on a real ledger: store add (and the account works), alerts list/show, code, metrics."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from click.testing import CliRunner

from collector.cli import main
from collector.ledger_service import LedgerService
from collector.runner import open_ledger
from collector.web import create_app
from collector.ingest.stats import IngestStats
from tests.collector.brokers import Client, make_config
from collector.broker.embedded import EmbeddedBroker
from tests.collector.helpers import BOX, T0, message, receipt, sale
from tests.support.mosquitto import free_port


def test_store_add_prints_a_snippet_whose_password_logs_in(tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path, port, "embedded")
    result = CliRunner().invoke(main, ["store", "add", "S0042", "--config", str(tmp_path / "collector.toml")])
    assert result.exit_code == 0, result.output
    snippet = tomllib.loads(result.output)
    assert snippet["store_id"] == "S0042" and snippet["county_id"] == "C1" and snippet["mqtt"]["port"] == port
    acl = config.path(config.broker.mosquitto_acl_file).read_text()
    assert "user S0042\ntopic write drugtrace/C1/S0042/events\n" in acl
    assert "S0042:$7$" in config.path(config.broker.mosquitto_password_file).read_text()
    broker = EmbeddedBroker("127.0.0.1", port, config.path(config.broker.embedded_password_file), "C1")
    broker.start()
    try:
        client = Client(port, "S0042", snippet["mqtt"]["password"], "agent-S0042")
        assert client.accepted
        client.close()
    finally:
        broker.stop()


def test_store_add_refuses_an_id_that_is_not_one_topic_level(tmp_path: Path) -> None:
    make_config(tmp_path, free_port(), "embedded")
    result = CliRunner().invoke(main, ["store", "add", "S1/#", "--config", str(tmp_path / "collector.toml")])
    assert result.exit_code == 1 and "Expected a store id of 1-64 letters" in result.output


def test_alerts_code_and_metrics_show_what_the_ledger_holds(tmp_path: Path) -> None:
    config = make_config(tmp_path, free_port(), "embedded")
    ledger = open_ledger(config)
    sold_a, sold_b = sale("S1", 2, 10), sale("S2", 1, 20)
    LedgerService(ledger, "C1", config.rules).ingest(
        [message("S1", [receipt("S1", 1, 0), sold_a]), message("S2", [sold_b])], T0 + dt.timedelta(hours=1))
    alert = ledger.alerts(rule="sold_at_two_stores")[0]
    ledger.close()
    cfg = ["--config", str(tmp_path / "collector.toml")]
    runner = CliRunner()
    listed = runner.invoke(main, ["alerts", "list", *cfg])
    assert listed.exit_code == 0 and f"{alert.id}\topen\tsold_at_two_stores\tcritical\t{BOX.key}\tS1,S2" in listed.output
    shown = runner.invoke(main, ["alerts", "show", str(alert.id), *cfg])
    assert shown.exit_code == 0 and sold_a.id in shown.output and sold_b.id in shown.output
    missing = runner.invoke(main, ["alerts", "show", "999", *cfg])
    assert missing.exit_code == 1 and "Expected an existing alert id, got 999." in missing.output
    history = runner.invoke(main, ["code", BOX.key, *cfg])
    lines = history.output.splitlines()
    assert [line.split("\t")[1:3] for line in lines[:3]] == [["S1", "receipt"], ["S1", "sale"], ["S2", "sale"]]
    assert any(line.startswith(f"alert {alert.id}\topen\tsold_at_two_stores") for line in lines)

    stats = IngestStats()
    app = create_app({"LEDGER_PATH": str(config.path(config.store.path)), "INGEST_STATS": stats})
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert "drugtrace_ledger_events 3\n" in text and "drugtrace_ledger_unjudged_events 0\n" in text
    assert 'drugtrace_open_alerts_by_rule{rule="sold_at_two_stores"} 1\n' in text
    assert "drugtrace_quarantined 0\n" in text and "drugtrace_ingest_events_total 0\n" in text
    assert 'drugtrace_process_restarts_total{process="decoder"} 0\n' in text
    stats.restarted("evaluator")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'drugtrace_process_restarts_total{process="evaluator"} 1\n' in text


def test_quarantine_and_missing_events_are_listed_with_their_reasons(tmp_path: Path) -> None:
    config = make_config(tmp_path, free_port(), "embedded")
    ledger = open_ledger(config)
    service = LedgerService(ledger, "C1", config.rules)
    now = T0 + dt.timedelta(hours=1)
    posing = message("S2", [sale("S1", 1, 5)])  # claims another store: quarantined
    service.ingest([message("S1", [receipt("S1", 1, 0), sale("S1", 4, 10)]), posing,
                    message("S2", [receipt("S2", 1, 0)])], now)
    service.ingest([posing], now + dt.timedelta(minutes=1))  # delivered again: the same entry, counted
    assert ledger.counts()["quarantined"] == 1
    ledger.close()
    cfg = ["--config", str(tmp_path / "collector.toml")]
    runner = CliRunner()
    missing = runner.invoke(main, ["store", "missing", *cfg])
    assert missing.exit_code == 0 and missing.output.startswith("S1\t2 missing\tseq 2-3\tsince ")
    assert "asked 0 times" in missing.output and "S2" not in missing.output
    listed = runner.invoke(main, ["quarantine", "list", *cfg])
    assert listed.exit_code == 0
    entry, received, store, topic, size, times, reason = listed.output.splitlines()[0].split("\t")
    assert (store, topic, times) == ("S2", "drugtrace/C1/S2/events", "2x")
    assert reason == "Expected every event's store to be 'S2' (from the topic), got ['S1']."
    shown = runner.invoke(main, ["quarantine", "show", entry, *cfg])
    assert shown.exit_code == 0 and '"store":"S1"' in shown.output and f"size      {size}" in shown.output
    assert "times     2\n" in shown.output and "last      2026-" in shown.output
    absent = runner.invoke(main, ["quarantine", "show", "999", *cfg])
    assert absent.exit_code == 1 and "Expected an existing quarantine id, got 999." in absent.output
