"""Sign-in, roles, CSRF, session timeout and the audit log, through the Flask test client."""

from __future__ import annotations

import datetime as dt

import pytest

from collector.web.accounts import audit_log
from collector.web.db import connect
from tests.collector.web.conftest import sign_in
from tests.collector.web.support import PASSWORDS, County, csrf_of

PAGES = ["/", "/stores/", "/stores/S1", "/alerts/", "/alerts/1", "/alerts/export.csv", "/codes/", "/admin/"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_sign_in(app, county: County, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_actions_without_a_session_go_to_sign_in_and_change_nothing(app, county: County, ledger_path) -> None:
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))  # a valid CSRF token, but nobody signed in
    response = client.post("/alerts/1/acknowledge", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _status(ledger_path, 1) == "new"


def _status(path, alert_id: int) -> str:  # type: ignore[no-untyped-def]
    conn = connect(path)
    try:
        return str(conn.execute("SELECT status FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0])
    finally:
        conn.close()


def test_wrong_password_is_refused_and_audited(app, ledger_path) -> None:
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "li.auditor", "password": "guess-guess", "csrf_token": token})
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    unknown = client.post("/login", data={"username": "nobody", "password": "guess-guess", "csrf_token": token})
    assert unknown.status_code == 401
    sign_in(client, "li.auditor")
    conn = connect(ledger_path)
    actions = [(e.username, e.action) for e in reversed(audit_log(conn))]
    conn.close()
    assert actions == [("li.auditor", "sign_in_failed"), ("nobody", "sign_in_failed"), ("li.auditor", "sign_in")]


def test_sign_in_without_or_with_a_wrong_csrf_token_is_refused(app) -> None:
    client = app.test_client()
    client.get("/login")
    good = {"username": "admin", "password": PASSWORDS["admin"]}
    assert client.post("/login", data=good).status_code == 400
    assert client.post("/login", data={**good, "csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 302  # still not signed in


def test_actions_with_a_missing_or_wrong_csrf_token_are_refused(signed_in, county: County, ledger_path) -> None:
    client, token = signed_in("li.auditor")
    for data in ({}, {"csrf_token": "x" * len(token)}, {"csrf_token": token[:-1]}):
        response = client.post("/alerts/1/acknowledge", data=data)
        assert response.status_code == 400
        assert "CSRF" in response.get_data(as_text=True)
    assert _status(ledger_path, 1) == "new"
    other, other_token = signed_in("admin")
    assert other_token != token
    assert client.post("/alerts/1/acknowledge", data={"csrf_token": other_token}).status_code == 400  # not his
    assert client.post("/alerts/1/acknowledge", data={"csrf_token": token}).status_code == 302
    assert _status(ledger_path, 1) == "acknowledged"


def test_sign_out_needs_csrf_and_ends_the_session_on_the_server(signed_in, county: County) -> None:
    client, token = signed_in("wang.viewer")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("session")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    # replaying the old cookie does not bring the session back: it was deleted on the server
    client.set_cookie("session", cookie.value)
    assert client.get("/").status_code == 302


def test_idle_session_times_out_and_the_page_says_so(signed_in, county: County, clock) -> None:
    client, _ = signed_in("wang.viewer")
    clock.now += dt.timedelta(minutes=29)
    assert client.get("/").status_code == 200  # activity keeps it alive ...
    clock.now += dt.timedelta(minutes=29)
    assert client.get("/").status_code == 200
    clock.now += dt.timedelta(minutes=31)  # ... idleness ends it
    response = client.get("/", follow_redirects=True)
    assert "会话已超时" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_session_ends_after_its_lifetime_even_when_active(signed_in, county: County, clock) -> None:
    client, _ = signed_in("wang.viewer")
    start = clock.now
    for _ in range(13 * 4):
        clock.now += dt.timedelta(minutes=15)
        if client.get("/codes/").status_code != 200:
            break
    assert client.get("/codes/").status_code == 302
    assert dt.timedelta(hours=12) < clock.now - start <= dt.timedelta(hours=12, minutes=15)


def test_viewer_cannot_act_on_alerts_or_reach_admin(signed_in, county: County, ledger_path) -> None:
    client, token = signed_in("wang.viewer")
    for path, data in (("/alerts/1/acknowledge", {}), ("/alerts/1/close", {"closure": "confirmed_fraud", "note": "x"}),
                       ("/alerts/bulk", {"action": "acknowledge", "alert": "1"})):
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403, path
    assert _status(ledger_path, 1) == "new"
    page = client.get("/alerts/1").get_data(as_text=True)
    assert 'id="acknowledge"' not in page and "查看者角色只能浏览" in page
    assert client.get("/admin/").status_code == 403
    auditor, _ = signed_in("li.auditor")
    assert auditor.get("/admin/").status_code == 403


def test_admin_adds_a_user_who_can_then_sign_in(signed_in, app, ledger_path) -> None:
    client, token = signed_in("admin")
    response = client.post("/admin/users", data={"username": "zhao", "password": "zhao-password-1",
                                                 "role": "auditor", "csrf_token": token}, follow_redirects=True)
    assert "用户已创建" in response.get_data(as_text=True)
    short = client.post("/admin/users", data={"username": "qian", "password": "short", "role": "viewer",
                                              "csrf_token": token}, follow_redirects=True)
    assert "at least 10 characters" in short.get_data(as_text=True)
    fresh = app.test_client()
    sign_in(fresh, "zhao", "zhao-password-1")
    assert fresh.get("/alerts/").status_code == 200
    client.post("/admin/users/zhao", data={"disabled": "1", "csrf_token": token})
    assert fresh.get("/alerts/").status_code == 302  # disabling ends the session at once
    log = client.get("/admin/").get_data(as_text=True)
    assert "user_added" in log and "user_changed" in log and "sign_in" in log


def test_sign_in_redirects_only_within_the_site(app) -> None:
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    data = {"username": "admin", "password": PASSWORDS["admin"], "csrf_token": token}
    response = client.post("/login?next=//evil.example/x", data=data)
    assert response.headers["Location"] == "/"
    client2 = app.test_client()
    token2 = csrf_of(client2.get("/login").get_data(as_text=True))
    response = client2.post("/login?next=/alerts/%3Fstatus%3D", data={**data, "csrf_token": token2})
    assert response.headers["Location"] == "/alerts/?status="


def test_security_headers(signed_in, county: County) -> None:
    client, _ = signed_in("wang.viewer")
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers.get("Set-Cookie") or client.get("/login").headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie or cookie == ""
