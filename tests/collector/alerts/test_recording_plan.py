"""The lifecycle's per-hit lookup stays an index probe on (rule, subject), whatever other indexes exist."""

from __future__ import annotations

from pathlib import Path

from collector.alerts.recording import LATEST_ALERT_OF_SUBJECT
from collector.runner import open_ledger
from collector.web.db import prepare
from tests.collector.brokers import make_config
from tests.support.mosquitto import free_port


def test_per_hit_lookup_probes_rule_and_subject_even_with_the_dashboard_indexes(tmp_path: Path) -> None:
    config = make_config(tmp_path, free_port(), "embedded")
    ledger = open_ledger(config)
    prepare(config.path(config.store.path))  # adds the dashboard's alerts(rule) index, which SQLite would prefer
    plan = [row[3] for row in ledger.conn.execute("EXPLAIN QUERY PLAN " + LATEST_ALERT_OF_SUBJECT, ("r", "s"))]
    # the sort afterwards is over the few alerts of one subject
    assert plan[0] == "SEARCH alerts USING INDEX alerts_rule_subject_status (rule=? AND subject=?)"
