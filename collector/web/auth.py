"""Sign-in, sessions with timeout, roles, CSRF protection and the language switch.

The cookie (signed by Flask) carries only a random session id, the CSRF token and the language;
who is signed in is looked up in dash_sessions on every request, so signing out, disabling a
user or the timeout end the session on the server. Every POST to a page (not the bearer-token
API) must carry the session's CSRF token in the form field `csrf_token` or the `X-CSRF-Token`
header.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from collector.web import accounts
from collector.web.accounts import AuditAction, Role, User
from collector.web.db import get_db, write
from collector.web.i18n import DEFAULT, MESSAGES, Lang, text

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def now() -> dt.datetime:
    return current_app.config["DASH_CLOCK"]()  # type: ignore[no-any-return]


def lang() -> Lang:
    try:
        return Lang(session.get("lang", DEFAULT.value))
    except ValueError:
        return DEFAULT


def t(key: str, **values: object) -> str:
    return text(lang(), key, **values)


def label(prefix: str, value: str) -> str:
    """The catalogue's name for a stored value (`sev_high`, `ev_sale`, ...), or the value itself if unknown."""
    key = prefix + str(value)
    return text(lang(), key) if key in MESSAGES else str(value)


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]  # type: ignore[no-any-return]


def _timeouts() -> tuple[dt.timedelta, dt.timedelta]:
    cfg = current_app.config
    return (dt.timedelta(minutes=cfg["DASH_SESSION_IDLE_MINUTES"]), dt.timedelta(hours=cfg["DASH_SESSION_MAX_HOURS"]))


def load_user() -> None:
    """Before every request: who is signed in (g.user), and whether a session just timed out."""
    g.user = None
    sid = session.get("sid")
    if not sid:
        return
    conn = get_db()
    with write(conn):
        g.user = accounts.session_user(conn, sid, now(), *_timeouts())
        if g.user is None:
            accounts.audit(conn, now(), session.get("who", "?"), AuditAction.SESSION_EXPIRED,
                           address=request.remote_addr or "")
    if g.user is None:
        session.pop("sid", None)
        session["expired"] = True  # the sign-in page says why


def check_csrf() -> None:
    """Before every request: refuse a state-changing request to a page without the session's token."""
    if request.method in _SAFE_METHODS or request.blueprint == "api" or request.endpoint in (None, "static"):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description=t("csrf_refused"))


def require(role: Role) -> Response | None:
    """None when the signed-in user has `role` (or better); else a redirect to sign in, or 403."""
    user: User | None = g.get("user")
    if user is None:
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    if not user.role.allows(role):
        abort(403, description=t("forbidden"))
    return None


def needs(role: Role) -> Callable[[F], F]:
    """View decorator: the view runs only for a signed-in user with `role` or better."""
    def wrap(view: F) -> F:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            refused = require(role)
            return refused if refused is not None else view(*args, **kwargs)
        return inner  # type: ignore[return-value]
    return wrap


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, never `//host` or a scheme."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("overview.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        conn = get_db()
        user = accounts.authenticate(conn, username, password)
        with write(conn):
            if user is None:
                accounts.audit(conn, now(), username[:64], AuditAction.SIGN_IN_FAILED,
                               address=request.remote_addr or "")
            else:
                old = session.get("sid")
                if old:
                    accounts.end_session(conn, old)
                sid = accounts.start_session(conn, user, now())
                accounts.audit(conn, now(), user.username, AuditAction.SIGN_IN, address=request.remote_addr or "")
        if user is None:
            error = t("bad_login")
        else:
            chosen = session.get("lang")
            session.clear()  # a new session id and a new CSRF token after sign-in (no fixation)
            session.update(sid=sid, who=user.username, csrf=secrets.token_urlsafe(32))
            if chosen:
                session["lang"] = chosen
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    page = render_template("auth/login.html", error=error, expired=session.pop("expired", False))
    return page, status  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    sid = session.get("sid")
    if sid:
        conn = get_db()
        with write(conn):
            accounts.end_session(conn, sid)
            if g.get("user") is not None:
                accounts.audit(conn, now(), g.user.username, AuditAction.SIGN_OUT, address=request.remote_addr or "")
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def switch_language(code: str) -> Response:
    """Only a display preference: a GET is fine here."""
    try:
        session["lang"] = Lang(code).value
    except ValueError:
        abort(404)
    return redirect(_safe_next(request.args.get("next")))


def init_app(app: Flask) -> None:
    app.before_request(load_user)
    app.before_request(check_csrf)
    app.register_blueprint(bp)

    @app.context_processor
    def frame() -> dict[str, object]:
        return {"t": t, "label": label, "lang": lang().value, "csrf_token": csrf_token, "user": g.get("user"),
                "Role": Role,
                "county": current_app.config["DASH_COUNTY"]}

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    def refused(error: Any) -> tuple[str, int]:
        if request.blueprint == "api" or request.path.startswith("/api/"):
            return {"error": error.name, "message": error.description}, error.code  # type: ignore[return-value]
        return render_template("error.html", error=error), error.code
