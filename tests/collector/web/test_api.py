"""The JSON API: bearer tokens, the same data as the pages, actions by role, and its OpenAPI document."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from collector.web.accounts import add_token
from collector.web.db import connect, write
from tests.collector.helpers import BOX
from tests.collector.web.support import NOW, County

SPEC = Path(__file__).resolve().parents[3] / "docs" / "dashboard-openapi.json"


@pytest.fixture
def tokens(app, ledger_path) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    conn = connect(ledger_path)
    with write(conn):
        made = {name: add_token(conn, name, "test", NOW) for name in ("li.auditor", "wang.viewer")}
    conn.close()
    return {name: {"Authorization": f"Bearer {token}"} for name, token in made.items()}


def _required(schema: dict, spec: dict) -> list[str]:  # type: ignore[type-arg]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema.get("required", [])  # type: ignore[no-any-return]


def test_openapi_document_is_valid_and_lists_every_api_route(app) -> None:
    spec = json.loads(SPEC.read_text())
    validate(spec)
    routes = {r.rule.removeprefix("/api/v1").replace("<int:alert_id>", "{id}").replace("<path:code>", "{code}")
              .replace("<store>", "{store}").replace("<action>", "{action}")
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert routes == set(spec["paths"])


def test_every_documented_read_answers_with_its_documented_keys(app, county: County, tokens) -> None:
    spec = json.loads(SPEC.read_text())
    client = app.test_client()
    alert_id = client.get("/api/v1/alerts", headers=tokens["wang.viewer"]).get_json()["alerts"][0]["id"]
    concrete = {"/overview": "/overview", "/stores": "/stores", "/stores/{store}": "/stores/S1", "/alerts": "/alerts",
                "/alerts/{id}": f"/alerts/{alert_id}", "/codes/{code}": f"/codes/{BOX.key}"}
    for path, url in concrete.items():
        response = client.get("/api/v1" + url, headers=tokens["wang.viewer"])
        assert response.status_code == 200, (url, response.get_json())
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert set(_required(schema, spec)) <= set(response.get_json()), url


def test_api_data_matches_the_ledger(app, county: County, tokens) -> None:
    client = app.test_client()
    overview = client.get("/api/v1/overview", headers=tokens["wang.viewer"]).get_json()
    assert overview["today"]["sales"] == 4 and overview["today"]["collection_rate"] == 0.5
    assert overview["health"] == {"online": 1, "silent": 0, "offline": 1, "unknown": 1}  # S2: events, no heartbeat
    assert overview["open_by_rule"] == {"sold_at_two_stores": 1, "sold_twice_same_store": 1}
    code = client.get(f"/api/v1/codes/{BOX.key}", headers=tokens["wang.viewer"]).get_json()
    assert code["facts"]["verdict"] == "sold_many" and code["facts"]["sales"] == 2
    assert [e["id"] for e in code["history"]] == [county.events[k].id for k in ("s1_receipt", "s1_sale", "s2_sale")]
    page = client.get("/api/v1/alerts?status=&sort=newest&limit=1", headers=tokens["wang.viewer"]).get_json()
    rest = client.get(f"/api/v1/alerts?status=&sort=newest&limit=1&after={page['next_after']}",
                      headers=tokens["wang.viewer"]).get_json()
    assert len(page["alerts"]) == len(rest["alerts"]) == 1 and page["alerts"][0]["id"] > rest["alerts"][0]["id"]
    store = client.get("/api/v1/stores/S1?limit=3", headers=tokens["wang.viewer"]).get_json()
    assert len(store["events"]) == 3 and store["next_before"]
    older = client.get("/api/v1/stores/S1?limit=3&before=" + urllib.parse.quote(store["next_before"]),
                       headers=tokens["wang.viewer"]).get_json()
    assert not {e["id"] for e in older["events"]} & {e["id"] for e in store["events"]}


def test_api_needs_a_token_and_ignores_the_session_cookie(app, county: County, signed_in) -> None:
    assert app.test_client().get("/api/v1/overview").status_code == 401
    client, _ = signed_in("admin")
    response = client.get("/api/v1/overview")  # a signed-in browser session is not an API credential
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert app.test_client().get("/api/v1/overview", headers={"Authorization": "Basic YWRtaW46eA=="}).status_code == 401


def test_api_actions_by_role(app, county: County, tokens, ledger_path) -> None:
    client = app.test_client()
    alert_id = client.get("/api/v1/alerts", headers=tokens["wang.viewer"]).get_json()["alerts"][0]["id"]
    viewer = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=tokens["wang.viewer"], json={})
    assert viewer.status_code == 403
    auditor = tokens["li.auditor"]
    assert client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=auditor, json={"note": "api"}).get_json() \
        == {"alert": alert_id, "status": "acknowledged"}
    refused = client.post(f"/api/v1/alerts/{alert_id}/close", headers=auditor, json={"note": "no code"})
    assert refused.status_code == 409 and "closure code" in refused.get_json()["message"]
    bad = client.post(f"/api/v1/alerts/{alert_id}/close", headers=auditor, json={"closure": "maybe", "note": "x"})
    assert bad.status_code == 400
    done = client.post(f"/api/v1/alerts/{alert_id}/close", headers=auditor,
                       json={"closure": "dismissed_other", "note": "checked by phone"})
    assert done.get_json()["status"] == "dismissed"
    assert client.post("/api/v1/alerts/999999/acknowledge", headers=auditor, json={}).status_code == 404
    assert client.get("/api/v1/alerts?limit=0", headers=auditor).status_code == 400
