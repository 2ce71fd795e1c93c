"""追溯码查询: look a code up across the county (typed, pasted or scanned into the search box)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from collector.web import alert_queries
from collector.web.accounts import Role
from collector.web.auth import lang, needs
from collector.web.code_lookup import look_up
from collector.web.db import get_db
from collector.web.event_view import summary
from collector.web.i18n import rule_title
from drugtrace.codes import ScanOptions, classify

bp = Blueprint("codes", __name__, url_prefix="/codes")


def identity(raw: str) -> str:
    """The identity key a scan stands for (GS1: GTIN + serial), or the trimmed text if it is no code."""
    text = raw.strip()
    if not text:
        return ""
    found = classify(text, ScanOptions())
    return found.identity_key or text


def lookup(conn, raw: str):  # type: ignore[no-untyped-def]
    code = identity(raw)
    if not code:
        return None, [], []
    history = alert_queries.code_history(conn, code)
    facts = look_up(code, [e.event for e in history if e.event is not None])
    alerts = alert_queries.queue(conn, alert_queries.AlertFilter(status="", code=code, sort=alert_queries.Sort.NEWEST),
                                 0, None, 100)
    return facts, history, alerts


@bp.get("/")
@needs(Role.VIEWER)
def index() -> str:
    raw = request.args.get("code", "")[:200]
    facts, history, alerts = lookup(get_db(), raw)
    return render_template("codes/lookup.html", raw=raw, facts=facts, history=history, alerts=alerts,
                           summary=summary, rule_title=lambda r: rule_title(lang(), r))
