"""Wires the dashboard into the collector's Flask app: settings, tables, blueprints, template helpers.

Settings (app.config, all optional except LEDGER_PATH):
DASH_COUNTY, DASH_UTC_OFFSET_MINUTES (480 = UTC+8), DASH_SILENT_AFTER_MINUTES (15),
DASH_COLLECTION_THRESHOLD (0.95), DASH_SESSION_IDLE_MINUTES (30), DASH_SESSION_MAX_HOURS (12),
DASH_STILLS_DIR (camera stills uploaded by stores, `{dir}/{store}/{name}`), DASH_CACHE_MIB (64),
DASH_CLOCK (a function returning the aware current time; tests pass a fixed one).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Flask

from collector.web import accounts
from collector.web.db import close_db, connect, prepare

DEFAULTS: dict[str, Any] = {
    "DASH_COUNTY": "",
    "DASH_UTC_OFFSET_MINUTES": 480,
    "DASH_SILENT_AFTER_MINUTES": 15,
    "DASH_COLLECTION_THRESHOLD": 0.95,
    "DASH_SESSION_IDLE_MINUTES": 30,
    "DASH_SESSION_MAX_HOURS": 12,
    "DASH_STILLS_DIR": None,
    "DASH_CACHE_MIB": 64,
    "DASH_CLOCK": lambda: dt.datetime.now(dt.timezone.utc),
}


def local_time(stamp: str | dt.datetime | None, offset_minutes: int, seconds: bool = True) -> str:
    """A stored UTC stamp as county-local `YYYY-MM-DD HH:MM:SS`."""
    if stamp is None or stamp == "":
        return "—"
    moment = stamp if isinstance(stamp, dt.datetime) else dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    local = moment.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=app.config["DASH_SESSION_MAX_HOURS"])
    path = Path(app.config["LEDGER_PATH"])
    prepare(path)
    if not app.config.get("SECRET_KEY"):
        conn = connect(path)
        try:
            app.config["SECRET_KEY"] = accounts.secret_key(conn)
        finally:
            conn.close()
    app.teardown_appcontext(close_db)

    from collector.web import admin, alerts, api, auth, codes, overview, stores

    auth.init_app(app)
    for module in (overview, stores, alerts, codes, admin, api):
        app.register_blueprint(module.bp)  # type: ignore[attr-defined]

    @app.template_filter("localtime")
    def localtime(stamp: str | dt.datetime | None, seconds: bool = True) -> str:
        return local_time(stamp, app.config["DASH_UTC_OFFSET_MINUTES"], seconds)

    @app.template_filter("percent")
    def percent(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    @app.after_request
    def headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                    "frame-ancestors 'none'; form-action 'self'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
