"""Every page renders for a signed-in viewer, in both languages, with the ledger's real numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.collector.helpers import BOX
from tests.collector.web.support import CODE2, County

PAGES = ["/", "/stores/", "/stores/S1", "/stores/S2", "/alerts/", "/alerts/?status=", "/codes/",
         f"/codes/?code={BOX.key}", "/alerts/export.csv"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_for_a_viewer(signed_in, county: County, lang: str) -> None:
    client, _ = signed_in("wang.viewer")
    client.get(f"/lang/{lang}")
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])
    alert_id = _first_alert(client)
    assert client.get(f"/alerts/{alert_id}").status_code == 200


def _first_alert(client) -> int:  # type: ignore[no-untyped-def]
    import re
    html = client.get("/alerts/").get_data(as_text=True)
    return int(re.search(r'href="/alerts/(\d+)"', html).group(1))  # type: ignore[union-attr]


def test_overview_shows_todays_counts_from_ingest(signed_in, county: County) -> None:
    client, _ = signed_in("wang.viewer")
    html = client.get("/").get_data(as_text=True)
    # 3 sales of 3 stores' events today (S1 x3, S2 x1 = 4), 2 receipts, 1 settlement, 1 of 2 boxes coded
    assert '<span class="label">今日 销售</span><span class="big">4</span>' in html
    assert '<span class="label">今日 入库</span><span class="big">2</span>' in html
    assert "50.0%" in html and "1 / 2" in html
    assert "回流药嫌疑" in html and "一药多卖" in html  # open alerts by rule, from the rules that really fired
    assert "<svg" in html and "<script src=" in html and "cdn" not in html.lower()


def test_store_list_search_and_health(signed_in, county: County) -> None:
    client, _ = signed_in("wang.viewer")
    html = client.get("/stores/").get_data(as_text=True)
    for store in ("S1", "S2", "S3"):
        assert f'href="/stores/{store}"' in html
    only = client.get("/stores/?q=s2").get_data(as_text=True)
    assert 'href="/stores/S2"' in only and 'href="/stores/S1"' not in only
    offline = client.get("/stores/?health=offline").get_data(as_text=True)
    assert 'href="/stores/S3"' in offline and 'href="/stores/S1"' not in offline
    online = client.get("/stores/?health=online").get_data(as_text=True)
    assert 'href="/stores/S1"' in online and 'href="/stores/S3"' not in online
    assert client.get("/stores/?health=sideways").status_code == 400


def test_store_page_shows_devices_outbox_timeline_and_alerts(signed_in, county: County) -> None:
    client, _ = signed_in("wang.viewer")
    client.get("/lang/en")
    html = client.get("/stores/S1").get_data(as_text=True)
    assert "7 / 100000" in html  # outbox depth from the heartbeat
    assert "lens covered" in html and "counter-cam" in html
    assert county.events["s1_sale2b"].doc in html and CODE2.key in html  # timeline
    assert "sold twice at one store" in html and "sold at two stores" in html  # its alerts
    assert "30 s" in html  # upload lag: heartbeat clock minus last upload
    assert client.get("/stores/NOPE").status_code == 404


def test_store_page_shows_the_events_missing_from_its_sequence(signed_in, county: County, ledger_path) -> None:
    from tests.collector.web.support import ingest, message, receipt
    from drugtrace.events import Code, CodeKind
    arrived = [receipt("S8", n, n, Code(key=f"7{n:019d}", kind=CodeKind.NMPA)) for n in (1, 2, 5, 9)]
    ingest(ledger_path, [message("S8", arrived)])
    client, _ = signed_in("wang.viewer")
    html = client.get("/stores/S8").get_data(as_text=True)
    assert '缺失事件</span><span class="big">5</span>' in html and "seq 3–4, 6–8" in html
    complete = client.get("/stores/S1").get_data(as_text=True)
    assert '缺失事件</span><span class="big">0</span>' in complete


def test_store_timeline_pages_by_keyset_without_overlap(signed_in, county: County, ledger_path) -> None:
    from tests.collector.web.support import ingest, message, receipt
    from drugtrace.events import Code, CodeKind
    many = [receipt("S9", n, n, Code(key=f"8{n:019d}", kind=CodeKind.NMPA)) for n in range(1, 121)]
    ingest(ledger_path, [message("S9", many)])
    client, _ = signed_in("wang.viewer")
    seen: list[str] = []
    path = "/stores/S9"
    import re
    while path:
        html = client.get(path).get_data(as_text=True)
        seen.extend(re.findall(r'<td>(R\d+)</td>', html))
        found = re.search(r'id="older" href="([^"]+)"', html)
        path = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == [f"R{n}" for n in range(120, 0, -1)]


def test_code_lookup_verdicts(signed_in, county: County) -> None:
    client, _ = signed_in("wang.viewer")
    once = client.get(f"/codes/?code={county.events['s1_receipt2'].code.key}").get_data(as_text=True)
    assert "已销售两次及以上" in once  # CODE2 was sold twice at S1
    twice = client.get(f"/codes/?code={BOX.key}").get_data(as_text=True)
    assert "已销售两次及以上" in twice and "8123456" in twice and "XA01" in twice
    none = client.get("/codes/?code=81234567890123459999").get_data(as_text=True)
    assert "未销售" in none and "全县没有该追溯码的任何记录" in none


def test_code_lookup_sold_once_and_gs1_scan(signed_in, county: County, ledger_path) -> None:
    from drugtrace.codes import classify
    from tests.collector.web.support import ingest, message, sale
    from drugtrace.events import Code, CodeKind
    scanned = "]d2010461234567890321SERIAL0001\x1d17271231"
    found = classify(scanned)
    assert found.identity_key
    ingest(ledger_path, [message("S2", [sale("S2", 2, 50, Code(key=found.identity_key, kind=CodeKind.GS1,
                                                                 product_key=found.gtin))])])
    client, _ = signed_in("wang.viewer")
    client.get("/lang/en")
    html = client.get("/codes/", query_string={"code": scanned}).get_data(as_text=True)
    assert "sold once" in html and found.identity_key in html


def test_english_switch_changes_the_words_not_the_data(signed_in, county: County) -> None:
    client, _ = signed_in("wang.viewer")
    zh = client.get("/").get_data(as_text=True)
    assert client.get("/lang/en?next=/").headers["Location"] == "/"
    en = client.get("/").get_data(as_text=True)
    assert "Collection rate" in en and "追溯码采集率" not in en
    assert "追溯码采集率" in zh and 'lang="zh-CN"' in zh and 'lang="en"' in en
    assert client.get("/lang/xx").status_code == 404
    assert client.get("/lang/en?next=//evil.example/").headers["Location"] == "/"


def test_overview_today_is_the_county_local_day(signed_in, county: County, clock) -> None:
    """At 23:30 local the 4 sales of the morning are today's; at 00:30 local (still the same UTC date) none are."""
    local = dt.timezone(dt.timedelta(hours=8))
    for hour, day, sales in ((23, 23, 4), (0, 24, 0)):
        clock.now = dt.datetime(2026, 11, day, hour, 30, tzinfo=local)
        client, _ = signed_in("wang.viewer")
        client.get("/lang/en")
        html = client.get("/").get_data(as_text=True)
        assert f'<span class="label">Today Sales</span><span class="big">{sales}</span>' in html


def test_alert_page_shows_the_camera_still_of_its_settlement(signed_in, county: County, ledger_path, app) -> None:
    from collector.rules.model import Hit, Rule, Severity
    from collector.store.sqlite import SQLiteLedger
    from drugtrace.events import CameraEvidence
    from drugtrace.ids import uuid7
    from drugtrace.wire import seal
    from tests.collector.web.support import NOW, at, ingest, message
    settled = county.events["s1_settle"]
    camera = seal(CameraEvidence(id=uuid7(), store="S1", doc=settled.doc, seq=8, at=at(42), setl_id=settled.setl_id,
                                 window_start=at(40), window_end=at(42), frames_analysed=60, frames_with_person=0,
                                 people_max=0, still_image="still-0001.jpg"))
    ingest(ledger_path, [message("S1", [camera])])
    ledger = SQLiteLedger(ledger_path)
    with ledger.transaction():
        ledger.record_hits([Hit(Rule.COLLECTION_GAP, Severity.MEDIUM, "store:S1:2026-11-23", ("S1",), None,
                                (settled.id,), "codes collected for 1 of 2 boxes")], NOW)
    alert_id = ledger.conn.execute("SELECT id FROM alerts WHERE rule = 'collection_gap'").fetchone()[0]
    ledger.close()
    client, _ = signed_in("wang.viewer")
    missing = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "still-0001.jpg" in missing and "门店尚未上传截图" in missing and "<img" not in missing
    folder = Path(app.config["DASH_STILLS_DIR"]) / "S1"
    folder.mkdir(parents=True)
    (folder / "still-0001.jpg").write_bytes(b"\xff\xd8\xff\xe0 a jpeg")
    shown = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert f'src="/alerts/{alert_id}/still/{camera.id}"' in shown
    image = client.get(f"/alerts/{alert_id}/still/{camera.id}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data.startswith(b"\xff\xd8")
    assert client.get(f"/alerts/{alert_id}/still/{settled.id}").status_code == 404  # not a camera event
    other = county.events["s1_sale"]
    assert client.get(f"/alerts/1/still/{other.id}").status_code == 404


def test_still_names_cannot_leave_the_stills_folder(app) -> None:
    from collector.web.alerts import _still_path
    folder = Path(app.config["DASH_STILLS_DIR"])
    (folder / "S1").mkdir(parents=True)
    (folder / "S1" / "ok.jpg").write_bytes(b"x")
    (folder / "secret.jpg").write_bytes(b"x")
    with app.app_context():
        assert _still_path("S1", "ok.jpg") == folder / "S1" / "ok.jpg"
        for store, name in (("S1", "../secret.jpg"), ("..", "secret.jpg"), ("S1", "/etc/passwd"), ("S1", ".hidden")):
            assert _still_path(store, name) is None, (store, name)
