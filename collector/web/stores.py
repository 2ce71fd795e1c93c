"""门店: the store list (search, health) and one store's page (timeline, trend, devices, outbox, alerts)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, render_template, request

from collector.web import aggregates, alert_queries, charts, store_queries
from collector.web.accounts import Role
from collector.web.auth import lang, needs, now
from collector.web.db import get_db
from collector.web.event_view import summary
from collector.web.i18n import rule_title, text
from collector.web.store_queries import Health

bp = Blueprint("stores", __name__, url_prefix="/stores")
PAGE = 50


def _silent_after() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["DASH_SILENT_AFTER_MINUTES"])


def parse_health(value: str) -> Health | None:
    try:
        return Health(value) if value else None
    except ValueError:
        abort(400, description=f"Expected health to be one of {[h.value for h in Health]}, got {value!r}.")


def parse_cursor(value: str) -> tuple[str, int] | None:
    """`before` cursor of the timeline: `{at}|{rowid}` of the last event shown."""
    if not value:
        return None
    at, _, rowid = value.rpartition("|")
    if not at or not rowid.isdigit():
        abort(400, description=f"Expected a cursor 'time|row', got {value!r}.")
    return at, int(rowid)


@bp.get("/")
@needs(Role.VIEWER)
def index() -> str:
    search = request.args.get("q", "")[:64]
    health = parse_health(request.args.get("health", ""))
    cfg = current_app.config
    rows = store_queries.stores(aggregates.fresh(get_db()), now(), cfg["DASH_UTC_OFFSET_MINUTES"], _silent_after(),
                                search, health)
    return render_template("stores/list.html", rows=rows, q=search, health=health, healths=list(Health))


@bp.get("/<store>")
@needs(Role.VIEWER)
def page(store: str) -> str:
    conn = aggregates.fresh(get_db())
    cfg = current_app.config
    moment = now()
    info = store_queries.store_page(conn, store, moment, _silent_after())
    if not info.known:
        abort(404, description=text(lang(), "unknown_store"))
    today = store_queries.local_day(moment, cfg["DASH_UTC_OFFSET_MINUTES"])
    days = store_queries.store_days(conn, store, today - dt.timedelta(days=29), today)
    trend = charts.rate_chart([(d.day[5:], d.collection_rate) for d in days], cfg["DASH_COLLECTION_THRESHOLD"],
                              text(lang(), "collection_rate"))
    activity = charts.bar_chart([(d.day[8:], d.sales) for d in days], text(lang(), "sales"))
    events = store_queries.timeline(conn, store, parse_cursor(request.args.get("before", "")), PAGE)
    cursor = f"{events[-1].at}|{events[-1].rowid}" if len(events) == PAGE else None
    heartbeat = info.heartbeat
    lag = skew = None
    if heartbeat is not None:
        if heartbeat.last_upload is not None:
            lag = (heartbeat.at - heartbeat.last_upload).total_seconds()
        if info.heartbeat_received:
            skew = (heartbeat.at - store_queries.parse_stamp(info.heartbeat_received)).total_seconds()
    alerts = alert_queries.store_alerts(conn, store)
    return render_template("stores/page.html", info=info, trend=trend, activity=activity, events=events,
                           cursor=cursor, summary=summary, lag=lag, skew=skew, alerts=alerts,
                           rule_title=lambda r: rule_title(lang(), r), today=days[-1])
