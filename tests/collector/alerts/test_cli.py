"""`drugtrace-collector alerts ack|close|reopen|history` on a real ledger file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from collector.alerts.recording import LifecycleLedger
from collector.cli import main
from collector.ledger_service import LedgerService
from collector.rules import RuleSettings
from tests.collector.helpers import COUNTY, T0, message, receipt, sale


def test_an_auditor_takes_an_alert_through_its_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "collector.toml"
    config.write_text(f'county = "{COUNTY}"\ndata_dir = "data"\n')
    ledger = LifecycleLedger(tmp_path / "data" / "ledger.db")
    LedgerService(ledger, COUNTY, RuleSettings()).ingest(
        [message("S1", [receipt("S1", 1, 0), sale("S1", 2, 10)]), message("S2", [sale("S2", 1, 20)])],
        T0 + dt.timedelta(hours=1))
    alert = str(ledger.conn.execute("SELECT id FROM alerts").fetchone()[0])
    ledger.close()
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, [*args, "--config", str(config)], catch_exceptions=False)
        return result.exit_code, result.output

    assert run("alerts", "close", alert, "--user", "li", "--code", "confirmed_fraud", "--note", "x") == (
        1, f"Error: Cannot close alert {alert}: expected an acknowledged alert, got new; acknowledge it first.\n")
    assert run("alerts", "ack", alert, "--user", "li") == (0, f"alert {alert}: new → acknowledged (li).\n")
    code, output = run("alerts", "close", alert, "--user", "li", "--note", "checked")
    assert code == 1 and "expected a closure code (one of confirmed_fraud," in output
    assert run("alerts", "close", alert, "--user", "li", "--code", "dismissed_duplicate_upload",
               "--note", "POS resent") == (0, f"alert {alert}: acknowledged → dismissed (li).\n")
    assert run("alerts", "ack", alert, "--user", "li")[0] == 1
    assert run("alerts", "reopen", alert, "--user", "zhao", "--note", "store disputes") == (
        0, f"alert {alert}: dismissed → new (zhao).\n")
    code, output = run("alerts", "history", alert)
    lines = [line.split("\t") for line in output.splitlines()]
    assert code == 0 and [(l[1], l[2], l[3], l[4]) for l in lines] == [
        ("system (system)", "raise", "- → new", "-"),
        ("li (auditor)", "acknowledge", "new → acknowledged", "-"),
        ("li (auditor)", "close", "acknowledged → dismissed", "dismissed_duplicate_upload"),
        ("zhao (auditor)", "reopen", "dismissed → new", "-")]
    assert lines[2][5] == "POS resent"
    assert run("alerts", "history", "999") == (1, "Error: Expected an existing alert id, got 999.\n")
