"""Untrusted text (codes, store ids, notes, scanner input) is escaped on every page that shows it."""

from __future__ import annotations

import re
import urllib.parse

from drugtrace.events import Code, CodeKind
from tests.collector.web.support import ingest, message, receipt, sale

EVIL_STORE = "<img src=x onerror=alert(1)>"
EVIL_CODE = '<script>alert("code")</script>'
EVIL_NOTE = "<script>alert('note')</script>"
RAW = ("<script>", "<img src=x", "onerror=alert(1)>")


def _plant(ledger_path) -> None:  # type: ignore[no-untyped-def]
    code = Code(key=EVIL_CODE, kind=CodeKind.UNCLASSIFIED)
    ingest(ledger_path, [message(EVIL_STORE, [receipt(EVIL_STORE, 1, 0, code),
                                              sale(EVIL_STORE, 2, 5, code, doc="<b>D")]),
                         message("S1", [sale("S1", 1, 9, code)])])


def _clean(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{raw!r} unescaped on {where}"


def test_script_like_codes_store_ids_and_notes_never_appear_unescaped(signed_in, app, ledger_path) -> None:
    _plant(ledger_path)
    client, token = signed_in("li.auditor")
    alerts = client.get("/alerts/?status=").get_data(as_text=True)
    ids = [int(x) for x in re.findall(r'class="alert-link">(\d+)<', alerts)]
    assert ids, "the planted sales raised no alert"
    for alert_id in ids:
        client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token, "note": EVIL_NOTE})
    store = urllib.parse.quote(EVIL_STORE, safe="")
    code = urllib.parse.quote(EVIL_CODE, safe="")
    pages = ["/", "/stores/", f"/stores/{store}", "/alerts/?status=", f"/alerts/?status=&store={store}",
             f"/codes/?code={code}", f"/alerts/?status=&code={code}"] + [f"/alerts/{i}" for i in ids]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        _clean(html, path)
    detail = client.get(f"/alerts/{ids[0]}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;" in detail  # shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail
    admin, _ = signed_in("admin")
    _clean(admin.get("/admin/").get_data(as_text=True), "/admin/")
    api = client.get(f"/api/v1/codes/{code}")  # no token: JSON refusal, nothing echoed as HTML
    assert api.status_code == 401 and api.mimetype == "application/json"


def test_error_pages_escape_what_they_echo(signed_in, app) -> None:
    client, _ = signed_in("wang.viewer")
    response = client.get("/alerts/?status=<script>alert(1)</script>")
    assert response.status_code == 400
    _clean(response.get_data(as_text=True), "400 page")
