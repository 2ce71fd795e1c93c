"""预警: the auditors' queue (filters, sorting, pages, CSV), one alert with its proof, and the actions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

from flask import (
    Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for,
)

from collector.alerts import ClosureCode
from collector.web import accounts, alert_actions, alert_queries
from collector.web.accounts import AuditAction, Role
from collector.web.alert_actions import AlertAction
from collector.web.alert_queries import SEVERITIES, STATUSES, AlertFilter, Sort
from collector.web.auth import lang, needs, now, t
from collector.web.db import get_db, write
from collector.web.event_view import summary
from collector.web.i18n import rule_title
from collector.rules.model import Rule

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
PAGE = 50
MAX_BULK = 500
_STILL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FILTER_ARGS = ("status", "rule", "severity", "store", "code", "from", "to", "sort")


def _day(name: str) -> dt.date | None:
    value = request.args.get(name, "")
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"Expected {name} as YYYY-MM-DD, got {value!r}.")


def parse_filter() -> AlertFilter:
    """The queue's filter from the query string; anything unknown is refused with what was expected."""
    args = request.args
    status = args.get("status", alert_queries.OPEN)
    if status not in ("", alert_queries.OPEN, alert_queries.CLOSED, *STATUSES):
        abort(400, description=f"Expected status to be one of {['open', 'closed', *STATUSES]}, got {status!r}.")
    severity = args.get("severity", "")
    if severity and severity not in SEVERITIES:
        abort(400, description=f"Expected severity to be one of {list(SEVERITIES)}, got {severity!r}.")
    try:
        sort = Sort(args.get("sort", Sort.SEVERITY.value))
    except ValueError:
        abort(400, description=f"Expected sort to be one of {[s.value for s in Sort]}, got {args.get('sort')!r}.")
    return AlertFilter(status=status, rule=args.get("rule", "")[:64], severity=severity,
                       store=args.get("store", "")[:64], code=args.get("code", "")[:120],
                       day_from=_day("from"), day_to=_day("to"), sort=sort)


def _after() -> int | None:
    value = request.args.get("after", "")
    if value and not value.isdigit():
        abort(400, description=f"Expected after to be an alert id, got {value!r}.")
    return int(value) if value else None


@bp.get("/")
@needs(Role.VIEWER)
def index() -> str:
    chosen = parse_filter()
    rows = alert_queries.queue(get_db(), chosen, current_app.config["DASH_UTC_OFFSET_MINUTES"], _after(), PAGE)
    query = {k: v for k, v in request.args.items() if k in _FILTER_ARGS}
    more = url_for("alerts.index", **query, after=rows[-1].id) if len(rows) == PAGE else None
    return render_template("alerts/list.html", rows=rows, f=chosen, query=query, more=more, rules=list(Rule),
                           statuses=STATUSES, severities=SEVERITIES, sorts=list(Sort), closures=list(ClosureCode),
                           rule_title=lambda r: rule_title(lang(), r), first=request.args.get("after") is not None)


def _cell(value: object) -> str:
    """CSV cell text that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/export.csv")
@needs(Role.VIEWER)
def export() -> Response:
    chosen = parse_filter()
    conn = get_db()
    offset = current_app.config["DASH_UTC_OFFSET_MINUTES"]
    rows = list(alert_queries.every(conn, chosen, offset))

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "rule", "severity", "status", "stores", "code", "subject", "first_seen", "last_seen",
                         "closure", "detail"])
        for r in rows:
            writer.writerow([_cell(v) for v in (r.id, r.rule, r.severity, r.status, " ".join(r.stores), r.code,
                                                r.subject, r.first_seen, r.last_seen, r.closure, r.detail)])
        yield "\ufeff" + out.getvalue()  # a BOM so spreadsheet programs read the Chinese text as UTF-8

    stamp = now().strftime("%Y%m%d-%H%M%S")
    return Response(lines(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="alerts-{stamp}.csv"'})


@bp.get("/<int:alert_id>")
@needs(Role.VIEWER)
def page(alert_id: int) -> str:
    found = alert_queries.alert_page(get_db(), alert_id)
    if found is None:
        abort(404, description=t("not_found"))
    present = {event for store, event, name in found.stills if _still_path(store, name) is not None}
    return render_template("alerts/page.html", p=found, a=found.alert, summary=summary, closures=list(ClosureCode),
                           rule_title=lambda r: rule_title(lang(), r), present=present)


def _still_path(store: str, name: str) -> Path | None:
    """Where an uploaded still is kept, if it is there (names are checked: no path tricks)."""
    folder = current_app.config["DASH_STILLS_DIR"]
    if folder is None or not _STILL_NAME.match(name) or not _STILL_NAME.match(store):
        return None
    path = Path(folder) / store / name
    return path if path.is_file() else None


@bp.get("/<int:alert_id>/still/<event_id>")
@needs(Role.VIEWER)
def still(alert_id: int, event_id: str) -> Response:
    """The camera still of one of the alert's camera evidence events, if the store uploaded it."""
    found = alert_queries.alert_page(get_db(), alert_id)
    for store, camera_event, name in found.stills if found else []:
        path = _still_path(store, name) if camera_event == event_id else None
        if path is not None:
            return send_file(path, mimetype="image/jpeg")
    abort(404)


def _act(ids: list[int], action: AlertAction) -> list[alert_actions.Result]:
    closure = alert_actions.parse_closure(request.form.get("closure", ""))
    note = request.form.get("note", "")[:2000]
    results = alert_actions.apply(Path(current_app.config["LEDGER_PATH"]), ids, action, g.user, now(), closure, note)
    conn = get_db()
    with write(conn):
        for result in results:
            accounts.audit(conn, now(), g.user.username,
                           AuditAction.ALERT_ACTION if result.done else AuditAction.ALERT_ACTION_REFUSED,
                           target=f"alert {result.alert}",
                           detail=f"{action.value} {closure.value if closure else ''} {result.message}".strip(),
                           address=request.remote_addr or "")
    done = [r for r in results if r.done]
    refused = [r for r in results if not r.done]
    if done:
        flash(t("done_n", n=len(done)), "ok")
    if refused:
        flash(t("refused_n", n=len(refused)) + " " + " ".join(r.message for r in refused[:10]), "error")
    return results


@bp.post("/<int:alert_id>/<action>")
@needs(Role.AUDITOR)
def act(alert_id: int, action: str) -> Response:
    try:
        chosen = AlertAction(action)
    except ValueError:
        abort(404)
    _act([alert_id], chosen)
    return redirect(url_for("alerts.page", alert_id=alert_id))


@bp.post("/bulk")
@needs(Role.AUDITOR)
def bulk() -> Response:
    try:
        chosen = AlertAction(request.form.get("action", ""))
    except ValueError:
        abort(400, description=f"Expected action to be one of {[a.value for a in AlertAction]}, "
                               f"got {request.form.get('action')!r}.")
    raw = request.form.getlist("alert")
    if not raw or len(raw) > MAX_BULK or not all(v.isdigit() for v in raw):
        abort(400, description=f"Expected 1-{MAX_BULK} alert ids, got {len(raw)} values.")
    _act([int(v) for v in raw], chosen)
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/alerts") and not back.startswith("//") else url_for("alerts.index"))
