"""The counter page: served in Chinese by default, scans typed into it count like device scans."""

from __future__ import annotations

import re

from drugtrace.events import ScanRefused
from tests.agent.counter.helpers import nmpa
from tests.agent.web.conftest import Pos


def _page_token(pos: Pos, query: str = "") -> str:
    html = pos.client.get("/" + query).get_data(as_text=True)
    match = re.search(r'data-page-token="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_page_is_chinese_by_default_with_an_english_switch(pos: Pos) -> None:
    html = pos.client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "请扫码" in html and 'href="?lang=en"' in html
    english = pos.client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and 'data-lang="en"' in english
    assert pos.client.get("/static/counter/counter.js").status_code == 200


def test_keyboard_wedge_scan_goes_to_the_active_document(pos: Pos) -> None:
    token = _page_token(pos)
    doc = pos.open()
    pos.line(doc, "XA01", 1)
    response = pos.client.post("/counter/scan", json={"raw": nmpa("8123456", 1)}, headers={"X-Counter-Token": token})
    assert response.status_code == 200 and response.get_json()["outcome"]["accepted"]
    view = pos.client.get("/api/v1/counter", headers={"X-Counter-Token": token}).get_json()
    assert view["active"]["doc_id"] == doc and view["missing"] == []
    assert view["last"]["source"] == "page" and view["last"]["verdict"] == "accepted" and view["last"]["number"] == 1


def test_page_scan_without_the_page_token_is_refused(pos: Pos) -> None:
    response = pos.client.post("/counter/scan", json={"raw": nmpa("8123456", 1)})
    assert response.status_code == 401 and pos.events() == []


def test_text_a_keyboard_layout_garbled_is_refused_and_reported(pos: Pos) -> None:
    token = _page_token(pos)
    pos.line(pos.open(), "XA01", 1)
    outcome = pos.client.post("/counter/scan", json={"raw": "８１２３４５６"},  # full-width digits from an IME
                              headers={"X-Counter-Token": token}).get_json()["outcome"]
    assert outcome["verdict"] == "refused" and "ASCII" in outcome["message_en"]
    assert isinstance(pos.events()[0], ScanRefused)


def test_refusal_view_carries_both_languages_and_missing_lines(pos: Pos) -> None:
    token = _page_token(pos)
    doc = pos.open()
    pos.line(doc, "XA01", 2)
    pos.client.post("/counter/scan", json={"raw": "6901234567892"}, headers={"X-Counter-Token": token})
    view = pos.client.get("/api/v1/counter", headers={"X-Counter-Token": token}).get_json()
    assert view["last"]["code"] == "commodity_barcode" and view["last"]["verdict"] == "refused"
    assert "commodity barcode" in view["last"]["message_en"] and "商品条码" in view["last"]["message"]
    assert view["missing"] == [{"line": 1, "product": "XA01", "name": "阿莫西林胶囊", "boxes_required": 2, "codes": 0,
                                "missing": 2}]


def test_page_script_never_uses_inner_html() -> None:
    from pathlib import Path

    import agent.web
    script = (Path(agent.web.__file__).parent / "static" / "counter.js").read_text()
    assert "innerHTML" not in script.replace("never innerHTML", "") and "textContent" in script
