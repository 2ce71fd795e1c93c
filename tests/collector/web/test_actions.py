"""Acknowledge, close (confirm or dismiss), reopen and bulk actions through the pages, via the lifecycle service."""

from __future__ import annotations

import csv
import io
import re

from collector.web.accounts import audit_log
from collector.web.db import connect
from tests.collector.web.support import County


def _alert_ids(client, query: str = "") -> list[int]:  # type: ignore[no-untyped-def]
    html = client.get(f"/alerts/{query}").get_data(as_text=True)
    return [int(x) for x in re.findall(r'class="alert-link">(\d+)<', html)]


def _row(path, alert_id: int) -> tuple[str, str, str | None]:  # type: ignore[no-untyped-def]
    conn = connect(path)
    try:
        row = conn.execute("SELECT status, state, closure FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return tuple(row)  # type: ignore[return-value]
    finally:
        conn.close()


def test_auditor_acknowledges_then_confirms_with_closure_and_note(signed_in, county: County, ledger_path) -> None:
    client, token = signed_in("li.auditor")
    alert_id = _alert_ids(client, "?rule=sold_at_two_stores")[0]
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert county.events["s1_sale"].id in page and county.events["s2_sale"].id in page  # the evidence
    assert county.events["s1_receipt"].id in page  # the code's history includes the receipt
    response = client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token, "note": "looking"})
    assert response.status_code == 302
    assert _row(ledger_path, alert_id) == ("acknowledged", "open", None)
    refused = client.post(f"/alerts/{alert_id}/close", data={"csrf_token": token, "note": "checked"},
                          follow_redirects=True)
    assert "expected a closure code" in refused.get_data(as_text=True)
    assert _row(ledger_path, alert_id)[0] == "acknowledged"
    client.post(f"/alerts/{alert_id}/close", data={"csrf_token": token, "closure": "confirmed_fraud",
                                                   "note": "same box sold by S1 and S2"})
    assert _row(ledger_path, alert_id) == ("confirmed", "closed", "confirmed_fraud")
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "same box sold by S1 and S2" in page and "li.auditor" in page  # the trail
    assert alert_id not in _alert_ids(client)  # off the open queue
    assert alert_id in _alert_ids(client, "?status=confirmed")
    client.post(f"/alerts/{alert_id}/reopen", data={"csrf_token": token, "note": "new evidence from S3"})
    assert _row(ledger_path, alert_id)[0] == "new"
    conn = connect(ledger_path)
    actions = [e.detail for e in audit_log(conn) if e.action.startswith("alert_action")]
    conn.close()
    assert len(actions) == 4 and any("expected a closure code" in a for a in actions)


def test_dismiss_goes_through_the_closure_code_prefix(signed_in, county: County, ledger_path) -> None:
    client, token = signed_in("admin")
    alert_id = _alert_ids(client, "?rule=sold_twice_same_store")[0]
    client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    client.post(f"/alerts/{alert_id}/close", data={"csrf_token": token, "closure": "dismissed_duplicate_upload",
                                                   "note": "one sale uploaded twice"})
    assert _row(ledger_path, alert_id) == ("dismissed", "closed", "dismissed_duplicate_upload")


def test_bulk_acknowledge_and_close_report_each_alert(signed_in, county: County, ledger_path) -> None:
    client, token = signed_in("li.auditor")
    ids = _alert_ids(client)
    assert len(ids) >= 2
    done = client.post("/alerts/bulk", data={"csrf_token": token, "action": "acknowledge", "alert": ids,
                                             "back": "/alerts/"}, follow_redirects=True)
    assert f"已处理 {len(ids)} 条" in done.get_data(as_text=True)
    again = client.post("/alerts/bulk", data={"csrf_token": token, "action": "acknowledge", "alert": ids[:1]},
                        follow_redirects=True)
    assert "1 条未处理" in again.get_data(as_text=True) and "already acknowledged" in again.get_data(as_text=True)
    client.post("/alerts/bulk", data={"csrf_token": token, "action": "close", "alert": ids,
                                      "closure": "dismissed_false_positive", "note": "test data"})
    assert all(_row(ledger_path, i)[0] == "dismissed" for i in ids)
    assert client.post("/alerts/bulk", data={"csrf_token": token, "action": "explode", "alert": ids}).status_code == 400
    assert client.post("/alerts/bulk", data={"csrf_token": token, "action": "close"}).status_code == 400


def test_queue_filters_sorts_and_pages(signed_in, county: County, ledger_path) -> None:
    from collector.rules.model import Hit, Rule, Severity
    from collector.store.sqlite import SQLiteLedger
    from tests.collector.web.support import NOW
    ledger = SQLiteLedger(ledger_path)
    with ledger.transaction():
        ledger.record_hits([Hit(Rule.NO_PROVENANCE, Severity.MEDIUM if n % 3 else Severity.CRITICAL, f"8{n:019d}",
                                (f"S{n % 4}",), f"8{n:019d}", (), "generated") for n in range(130)], NOW)
    ledger.close()
    client, _ = signed_in("wang.viewer")
    seen: list[int] = []
    path = "/alerts/?status=&sort=severity"
    while path:
        html = client.get(path).get_data(as_text=True)
        seen.extend(int(x) for x in re.findall(r'class="alert-link">(\d+)<', html))
        found = re.search(r'href="([^"]+)" id="next-page"', html)
        path = found.group(1).replace("&amp;", "&") if found else ""
    assert len(seen) == len(set(seen)) == 130 + 2
    severities = [_severity(ledger_path, i) for i in seen]
    ranks = {"critical": 3, "high": 2, "medium": 1, "low": 0}
    assert [ranks[s] for s in severities] == sorted((ranks[s] for s in severities), reverse=True)
    newest = _alert_ids(client, "?status=&sort=newest")
    assert newest == sorted(newest, reverse=True)
    assert _alert_ids(client, "?status=&sort=oldest")[:3] == [1, 2, 3]
    s2 = _alert_ids(client, "?status=&store=S2&sort=newest")
    assert s2 and all('"S2"' in _stores(ledger_path, i) for i in s2)
    assert _alert_ids(client, "?status=&rule=sold_at_two_stores") == [_one(ledger_path, "sold_at_two_stores")]
    assert len(_alert_ids(client, "?status=&severity=critical")) == 1 + len(range(0, 130, 3))
    assert _alert_ids(client, "?status=&from=2026-11-24") == []
    assert len(_alert_ids(client, "?status=&from=2026-11-23&to=2026-11-23&sort=newest")) == 50
    for bad in ("?status=maybe", "?severity=huge", "?sort=random", "?from=yesterday", "?after=x"):
        assert client.get(f"/alerts/{bad}").status_code == 400, bad


def _severity(path, alert_id: int) -> str:  # type: ignore[no-untyped-def]
    conn = connect(path)
    try:
        return str(conn.execute("SELECT severity FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0])
    finally:
        conn.close()


def _stores(path, alert_id: int) -> str:  # type: ignore[no-untyped-def]
    conn = connect(path)
    try:
        return str(conn.execute("SELECT stores FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0])
    finally:
        conn.close()


def _one(path, rule: str) -> int:  # type: ignore[no-untyped-def]
    conn = connect(path)
    try:
        return int(conn.execute("SELECT id FROM alerts WHERE rule = ?", (rule,)).fetchone()[0])
    finally:
        conn.close()


def test_csv_export_has_every_matching_alert_and_neutralises_formulas(signed_in, county: County, ledger_path) -> None:
    conn = connect(ledger_path)
    conn.execute("UPDATE alerts SET detail = '=HYPERLINK(\"http://evil\")' WHERE rule = 'sold_twice_same_store'")
    conn.close()
    client, _ = signed_in("wang.viewer")
    response = client.get("/alerts/export.csv?status=")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r["rule"] for r in rows) == ["sold_at_two_stores", "sold_twice_same_store"]
    twice = next(r for r in rows if r["rule"] == "sold_twice_same_store")
    assert twice["detail"].startswith("'=HYPERLINK")
    only = client.get("/alerts/export.csv?status=&rule=sold_at_two_stores").get_data(as_text=True)
    assert "sold_twice_same_store" not in only
