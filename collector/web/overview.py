"""总览: stores online, today's activity and collection rate, open alerts, with charts."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, render_template

from collector.web import aggregates, charts, store_queries
from collector.web.accounts import Role
from collector.web.auth import lang, needs, now
from collector.web.db import get_db
from collector.web.i18n import rule_title, text

bp = Blueprint("overview", __name__)
_SEVERITIES = ("critical", "high", "medium", "low")


def load() -> store_queries.Overview:
    """Bring the daily aggregates up to date (a bounded step), then read the overview."""
    cfg = current_app.config
    conn = aggregates.fresh(get_db())
    return store_queries.overview(conn, now(), cfg["DASH_UTC_OFFSET_MINUTES"],
                                  dt.timedelta(minutes=cfg["DASH_SILENT_AFTER_MINUTES"]))


@bp.get("/")
@needs(Role.VIEWER)
def index() -> str:
    data = load()
    chosen = lang()
    threshold = current_app.config["DASH_COLLECTION_THRESHOLD"]
    activity = charts.bar_chart([(d.day[5:], d.sales) for d in data.trend], text(chosen, "sales"))
    settled = charts.bar_chart([(d.day[5:], d.settlements) for d in data.trend], text(chosen, "settlements"),
                               css="bar alt")
    rate = charts.rate_chart([(d.day[5:], d.collection_rate) for d in data.trend], threshold,
                             text(chosen, "collection_rate"))
    severity = charts.bar_chart([(text(chosen, f"sev_{s}"), data.open_by_severity.get(s, 0)) for s in _SEVERITIES],
                                text(chosen, "by_severity"), css="bar warn")
    rules = sorted(data.open_by_rule.items(), key=lambda item: -item[1])
    return render_template("overview.html", data=data, activity=activity, settled=settled, rate=rate,
                           severity=severity, rules=[(r, rule_title(chosen, r), n) for r, n in rules],
                           threshold=threshold, severities=_SEVERITIES,
                           health={h.value: n for h, n in data.health.items()})
