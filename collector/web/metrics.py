"""`/metrics` in the Prometheus text format: ingest totals and lag, quarantine, alerts by rule."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Blueprint, Response, current_app, g

from collector.ingest.stats import IngestStats
from collector.store.sqlite import ledger_counts
from collector.web.db import connect

bp = Blueprint("metrics", __name__)


def ledger() -> sqlite3.Connection:
    """One plain connection per request, closed on teardown: the schema was made when the collector
    started, so a scrape neither re-applies migrations nor sizes the writer's page cache."""
    if "ledger" not in g:
        g.ledger = connect(Path(current_app.config["LEDGER_PATH"]), cache_mib=8)
    return g.ledger  # type: ignore[no-any-return]


def close_ledger(_exc: BaseException | None = None) -> None:
    opened = g.pop("ledger", None)
    if opened is not None:
        opened.close()


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    if labels:
        inner = ",".join(f'{key}="{val}"' for key, val in sorted(labels.items()))
        return f"{name}{{{inner}}} {value:g}"
    return f"{name} {value:g}"


def render(counts: dict[str, int], stats: dict[str, float] | None) -> str:
    """The exposition text for ledger counts and (when this process ingests) live ingest counters."""
    out: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[float, dict[str, str] | None]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(_line(name, value, labels) for value, labels in samples)

    metric("drugtrace_ledger_events", "gauge", "Events stored in the ledger.", [(counts["events"], None)])
    metric("drugtrace_ledger_unjudged_events", "gauge", "Stored events the rules have not judged yet.",
           [(counts.get("unjudged", 0), None)])
    metric("drugtrace_quarantined", "gauge", "Payloads and events in quarantine.", [(counts["quarantined"], None)])
    metric("drugtrace_open_alerts", "gauge", "Open alerts.", [(counts["open_alerts"], None)])
    metric("drugtrace_missing_events", "gauge",
           "Events missing below the highest sequence number received from their store (asked for again).",
           [(counts.get("missing_events", 0), None)])
    metric("drugtrace_missing_events_by_store", "gauge", "Missing events per store that has any.",
           [(v, {"store": k.split(":", 1)[1]}) for k, v in sorted(counts.items()) if k.startswith("missing:")])
    metric("drugtrace_open_alerts_by_rule", "gauge", "Open alerts per rule.",
           [(v, {"rule": k.split(":", 1)[1]}) for k, v in sorted(counts.items()) if k.startswith("open_alerts:")])
    metric("drugtrace_alerts_by_rule", "gauge", "Alerts ever raised per rule (any state).",
           [(v, {"rule": k.split(":", 1)[1]}) for k, v in sorted(counts.items()) if k.startswith("alerts:")])
    if stats is not None:
        metric("drugtrace_ingest_events_total", "counter", "New events committed by this process.",
               [(stats["events_new"], None)])
        metric("drugtrace_ingest_events_by_type_total", "counter", "New events committed, per event type.",
               [(v, {"type": k.split(":", 1)[1]}) for k, v in sorted(stats.items()) if k.startswith("type:")])
        metric("drugtrace_ingest_duplicates_total", "counter", "Redelivered events ignored (already stored).",
               [(stats["events_duplicate"], None)])
        metric("drugtrace_ingest_messages_total", "counter", "MQTT messages committed and acknowledged.",
               [(stats["messages"], None)])
        metric("drugtrace_ingest_quarantined_total", "counter", "Payloads or events quarantined by this process.",
               [(stats["quarantined"], None)])
        metric("drugtrace_ingest_failures_total", "counter", "Ingest transactions that failed (then retried).",
               [(stats["failures"], None)])
        metric("drugtrace_process_restarts_total", "counter",
               "Child processes (decoder, evaluator) that died and were started again.",
               [(v, {"process": k.split(":", 1)[1]}) for k, v in sorted(stats.items()) if k.startswith("restarts:")])
        metric("drugtrace_ingest_lag_seconds_sum", "counter",
               "Sum over new events of (commit time - store event time); rate() / events rate = mean lag.",
               [(stats["lag_seconds_sum"], None)])
        metric("drugtrace_ingest_lag_seconds", "gauge", "Lag of the newest event of the last committed batch.",
               [(stats["lag_seconds_last"], None)])
    return "\n".join(out) + "\n"


@bp.get("/metrics")
def metrics() -> Response:
    stats: IngestStats | None = current_app.config.get("INGEST_STATS")
    text = render(ledger_counts(ledger()), stats.snapshot() if stats is not None else None)
    return Response(text, mimetype="text/plain; version=0.0.4")
