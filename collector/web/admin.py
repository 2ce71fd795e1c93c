"""用户与审计 (admins only): users and roles, and the audit log of sign-ins and alert actions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from collector.web import accounts
from collector.web.accounts import AccountError, AuditAction, Role
from collector.web.auth import needs, now, t
from collector.web.db import get_db, write

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        abort(400, description=f"Expected role to be one of {[r.value for r in Role]}, got {value!r}.")


@bp.get("/")
@needs(Role.ADMIN)
def index() -> str:
    conn = get_db()
    before = request.args.get("before", "")
    entries = accounts.audit_log(conn, int(before) if before.isdigit() else None, 100)
    more = url_for("admin.index", before=entries[-1].id) if len(entries) == 100 else None
    return render_template("admin/index.html", users=accounts.users(conn), entries=entries, roles=list(Role),
                           more=more)


@bp.post("/users")
@needs(Role.ADMIN)
def add_user() -> Response:
    conn = get_db()
    username = request.form.get("username", "").strip()
    role = _role(request.form.get("role", ""))
    try:
        with write(conn):
            accounts.add_user(conn, username, request.form.get("password", ""), role, now())
            accounts.audit(conn, now(), g.user.username, AuditAction.USER_ADDED, target=username, detail=role.value,
                           address=request.remote_addr or "")
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(t("user_added"), "ok")
    return redirect(url_for("admin.index"))


@bp.post("/users/<username>")
@needs(Role.ADMIN)
def change_user(username: str) -> Response:
    conn = get_db()
    try:
        with write(conn):
            if "role" in request.form:
                accounts.set_role(conn, username, _role(request.form["role"]))
            if "disabled" in request.form:
                accounts.set_disabled(conn, username, request.form["disabled"] == "1")
            accounts.audit(conn, now(), g.user.username, AuditAction.USER_CHANGED, target=username,
                           detail=" ".join(f"{k}={v}" for k, v in request.form.items() if k != "csrf_token"),
                           address=request.remote_addr or "")
    except AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.index"))
