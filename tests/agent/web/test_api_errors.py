"""Malformed, unauthorised and impossible POS API requests get clear JSON errors and never crash."""

from __future__ import annotations

import pytest

from agent.errors import ConfigurationError
from agent.web import WebSettings, create_app
from tests.agent.web.conftest import AUTH, Pos


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "message_en"} <= set(body["error"]), body
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0123456789"},
                                     {"Authorization": "Basic cG9zOnBvcw=="}, {"X-Counter-Token": "guess"}])
def test_requests_without_the_token_are_refused(pos: Pos, headers: dict) -> None:
    response = pos.client.post("/api/v1/documents", json={"kind": "sale"}, headers=headers)
    assert response.status_code == 401 and _error(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert pos.service.view().open_documents == ()


@pytest.mark.parametrize(("data", "fragment"), [
    pytest.param(b"{not json", "malformed JSON", id="malformed"),
    pytest.param(b"", "Expected `object`, got `null`", id="empty"),
    pytest.param(b'{"kind": "lunch"}', "Invalid enum value 'lunch'", id="bad-enum"),
    pytest.param(b'{"kind": 7}', "Expected `str`, got `int` - at `$.kind`", id="wrong-type"),
    pytest.param(b'{"kind": "sale", "extra": 1}', "unknown field `extra`", id="unknown-field"),
    pytest.param(b'[1, 2]', "Expected `object`, got `array`", id="array"),
    pytest.param(b"\xff\xfe\x00", "malformed JSON", id="binary"),
])
def test_malformed_bodies_are_bad_requests(pos: Pos, data: bytes, fragment: str) -> None:
    response = pos.client.post("/api/v1/documents", data=data, headers=AUTH)
    error = _error(response)
    assert response.status_code == 400 and error["code"] == "bad_request" and fragment in error["message_en"]


@pytest.mark.parametrize(("body", "field"), [
    ({"product": "XA01", "quantity": "2"}, "$.quantity"),
    ({"product": "XA01", "quantity": 0}, "$.quantity"),
    ({"product": "XA01", "quantity": 1, "price_fen": -5}, "$.price_fen"),
    ({"product": "XA01", "quantity": 1, "price_fen": 12.5}, "$.price_fen"),
    ({"product": "XA01", "quantity": 1, "trdn_flag": 2}, "$.trdn_flag"),
    ({"product": "XA01", "quantity": 1, "expiry": "31/12/2026"}, "$.expiry"),
    ({"quantity": 1}, "product"),
])
def test_wrong_line_fields_name_the_field(pos: Pos, body: dict, field: str) -> None:
    doc = pos.open()
    response = pos.client.post(f"/api/v1/documents/{doc}/lines", json=body, headers=AUTH)
    assert response.status_code == 400 and field in _error(response)["message_en"]


def test_unknown_documents_products_and_lines_are_named(pos: Pos) -> None:
    missing = pos.client.get("/api/v1/documents/NO-SUCH-DOC", headers=AUTH)
    assert missing.status_code == 404 and _error(missing)["message"] == "找不到单据NO-SUCH-DOC。"
    doc = pos.open()
    product = pos.client.post(f"/api/v1/documents/{doc}/lines", json={"product": "ZZ99", "quantity": 1}, headers=AUTH)
    assert product.status_code == 422 and _error(product)["code"] == "unknown_product"
    pos.line(doc, "XA01", 1)
    line = pos.client.post(f"/api/v1/documents/{doc}/scans", json={"raw": "81234560000000000001", "line": 9},
                           headers=AUTH)
    assert line.status_code == 422 and _error(line)["code"] == "unknown_line"


def test_operations_on_the_wrong_kind_or_state_conflict(pos: Pos) -> None:
    receipt = pos.open("receipt", supplier="s", invoice="i")
    wrong = pos.client.get(f"/api/v1/documents/{receipt}/settle-check", headers=AUTH)
    assert wrong.status_code == 409 and _error(wrong)["code"] == "wrong_document_kind"
    pos.call("POST", f"/documents/{receipt}/finish", status=200)
    closed = pos.client.post(f"/api/v1/documents/{receipt}/lines", json={"product": "XA01", "quantity": 1},
                             headers=AUTH)
    assert closed.status_code == 409 and _error(closed)["code"] == "document_not_open"
    sale = pos.open()
    assert pos.call("POST", f"/documents/{sale}/finish", status=409)["error"]["code"] == "must_settle"


def test_unknown_routes_methods_and_oversized_bodies(pos: Pos) -> None:
    assert _error(pos.client.get("/api/v1/nothing", headers=AUTH))["code"] in ("not_found", "unauthorized")
    method = pos.client.delete("/api/v1/documents", headers=AUTH)
    assert method.status_code == 405 and _error(method)["code"] == "method_not_allowed"
    huge = pos.client.post("/api/v1/documents", data=b'{"kind": "sale", "supplier": "' + b"x" * 100_000 + b'"}',
                           headers=AUTH)
    assert huge.status_code == 413 and _error(huge)["code"] == "bad_request"


def test_foreign_host_headers_are_refused(pos: Pos) -> None:
    response = pos.client.get("/api/v1/counter", headers={**AUTH, "Host": "attacker.example:8765"})
    assert response.status_code == 400 and "attacker.example" in _error(response)["message_en"]
    assert pos.client.get("/api/v1/counter", headers={**AUTH, "Host": "127.0.0.1:8765"}).status_code == 200


def test_a_full_outbox_answers_503_and_keeps_what_it_has(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.agent.counter.helpers import make_service, nmpa, stored_events
    service, outbox = make_service(tmp_path / "o.sqlite", capacity=10)
    client = create_app(service, WebSettings(token="x" * 16)).test_client()
    auth = {"Authorization": "Bearer " + "x" * 16}
    doc = client.post("/api/v1/documents", json={"kind": "sale"}, headers=auth).get_json()["document"]["doc_id"]
    client.post(f"/api/v1/documents/{doc}/lines", json={"product": "XA01", "quantity": 20}, headers=auth)
    outcomes = [client.post(f"/api/v1/documents/{doc}/scans", json={"raw": nmpa("8123456", n)},
                            headers=auth).get_json()["outcome"] for n in range(11)]
    assert [o["accepted"] for o in outcomes] == [True] * 10 + [False] and outcomes[-1]["code"] == "outbox_full"
    override = client.post(f"/api/v1/documents/{doc}/overrides", json={"line": 1, "reason": "r", "operator": "o"},
                           headers=auth)
    assert override.status_code == 503 and _error(override)["code"] == "outbox_full"
    assert len(stored_events(outbox)) == 10
    outbox.close()


def test_a_short_token_is_a_configuration_error(pos: Pos) -> None:
    with pytest.raises(ConfigurationError, match="at least 16 characters, got 5"):
        create_app(pos.service, WebSettings(token="short"))
