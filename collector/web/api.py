"""The dashboard's JSON API (`/api/v1`, bearer-token auth), described in docs/dashboard-openapi.json.

Tokens are made with `drugtrace-collector users token USERNAME`; a token acts with its user's role,
so a viewer's token reads and an auditor's token may also act on alerts. No cookies are read
here, so there is nothing for CSRF to abuse.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from pathlib import Path
from typing import Any

import msgspec
from flask import Blueprint, abort, current_app, g, request

from collector.web import accounts, aggregates, alert_actions, alert_queries, store_queries
from collector.web.accounts import AuditAction, Role
from collector.web.alert_actions import AlertAction
from collector.web.alerts import parse_filter
from collector.web.codes import lookup
from collector.web.db import get_db, write
from collector.web.stores import parse_cursor, parse_health

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def plain(value: Any) -> Any:
    """Dataclasses, enums, events and dicts as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    if isinstance(value, dict):
        return {plain(k) if isinstance(k, enum.Enum) else k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _event(e: store_queries.TimelineEvent) -> dict[str, Any]:
    return {"id": e.id, "type": e.type, "code": e.code, "doc": e.doc, "seq": e.seq, "at": e.at,
            "received_at": e.received_at, "event": plain(e.event)}


@bp.before_request
def token_auth() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = accounts.token_user(get_db(), token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        return {"error": "Unauthorized", "message": "Expected 'Authorization: Bearer <token>' with a valid token, "
                "got " + ("none." if not header else "an unknown or revoked token.")}, 401, \
            {"WWW-Authenticate": 'Bearer realm="drugtrace"'}
    g.user = user
    return None


def _now() -> dt.datetime:
    return current_app.config["DASH_CLOCK"]()  # type: ignore[no-any-return]


def _silent() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["DASH_SILENT_AFTER_MINUTES"])


@bp.get("/overview")
def overview() -> Any:
    cfg = current_app.config
    conn = aggregates.fresh(get_db())
    data = store_queries.overview(conn, _now(), cfg["DASH_UTC_OFFSET_MINUTES"], _silent())
    out = plain(data)
    out["today"]["collection_rate"] = data.today.collection_rate
    for day, counts in zip(out["trend"], data.trend):
        day["collection_rate"] = counts.collection_rate
    return out


@bp.get("/stores")
def stores() -> Any:
    rows = store_queries.stores(aggregates.fresh(get_db()), _now(), current_app.config["DASH_UTC_OFFSET_MINUTES"],
                                _silent(),
                                request.args.get("q", "")[:64], parse_health(request.args.get("health", "")))
    return {"stores": plain(rows)}


@bp.get("/stores/<store>")
def store(store: str) -> Any:
    conn = aggregates.fresh(get_db())
    info = store_queries.store_page(conn, store, _now(), _silent())
    if not info.known:
        abort(404, description=f"Expected a known store, got {store!r}.")
    raw_limit = request.args.get("limit", "50")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 500:
        abort(400, description=f"Expected limit 1-500, got {raw_limit!r}.")
    limit = int(raw_limit)
    events = store_queries.timeline(conn, store, parse_cursor(request.args.get("before", "")), limit)
    cursor = f"{events[-1].at}|{events[-1].rowid}" if len(events) == limit else None
    return {"store": plain(info), "events": [_event(e) for e in events], "next_before": cursor,
            "alerts": plain(alert_queries.store_alerts(conn, store))}


@bp.get("/alerts")
def alerts() -> Any:
    raw_limit = request.args.get("limit", "50")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 500:
        abort(400, description=f"Expected limit 1-500, got {raw_limit!r}.")
    after = request.args.get("after", "")
    if after and not after.isdigit():
        abort(400, description=f"Expected after to be an alert id, got {after!r}.")
    limit = int(raw_limit)
    rows = alert_queries.queue(get_db(), parse_filter(), current_app.config["DASH_UTC_OFFSET_MINUTES"],
                               int(after) if after else None, limit)
    return {"alerts": plain(rows), "next_after": rows[-1].id if len(rows) == limit else None}


@bp.get("/alerts/<int:alert_id>")
def alert(alert_id: int) -> Any:
    found = alert_queries.alert_page(get_db(), alert_id)
    if found is None:
        abort(404, description=f"Expected an existing alert id, got {alert_id}.")
    return {"alert": plain(found.alert), "evidence": [_event(e) for e in found.evidence],
            "missing_evidence": found.missing_evidence, "history": [_event(e) for e in found.history],
            "trail": plain(found.trail), "stills": [{"store": s, "event": e, "name": n} for s, e, n in found.stills]}


@bp.post("/alerts/<int:alert_id>/<action>")
def act(alert_id: int, action: str) -> Any:
    try:
        chosen = AlertAction(action)
    except ValueError:
        abort(404, description=f"Expected an action of {[a.value for a in AlertAction]}, got {action!r}.")
    if not g.user.role.allows(Role.AUDITOR):
        abort(403, description=f"Expected a token of an auditor or admin, got one of {g.user.role.value} "
                               f"{g.user.username!r}.")
    if get_db().execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone() is None:
        abort(404, description=f"Expected an existing alert id, got {alert_id}.")
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        abort(400, description="Expected a JSON object body.")
    closure_text = str(body.get("closure") or "")
    closure = alert_actions.parse_closure(closure_text)
    if closure_text and closure is None:
        abort(400, description=f"Expected closure to be a closure code, got {closure_text!r}.")
    note = str(body.get("note") or "")[:2000]
    result = alert_actions.apply(Path(current_app.config["LEDGER_PATH"]), [alert_id], chosen, g.user, _now(),
                                 closure, note)[0]
    conn = get_db()
    with write(conn):
        accounts.audit(conn, _now(), g.user.username,
                       AuditAction.ALERT_ACTION if result.done else AuditAction.ALERT_ACTION_REFUSED,
                       target=f"alert {alert_id}", detail=f"api {chosen.value} {result.message}",
                       address=request.remote_addr or "")
    if not result.done:
        return {"error": "Conflict", "message": result.message}, 409
    return {"alert": alert_id, "status": result.message}


@bp.get("/codes/<path:code>")
def code(code: str) -> Any:
    facts, history, alerts = lookup(get_db(), code[:200])
    if facts is None:
        abort(400, description="Expected a code, got an empty one.")
    return {"facts": plain(facts), "history": [_event(e) for e in history], "alerts": plain(alerts)}
