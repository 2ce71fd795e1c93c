"""The POS API blueprint (/api/v1): documents, lines, scans, "may I settle?", settle, override, returns.

Every route needs `Authorization: Bearer <token>` (or the counter page's own token). Request
bodies are JSON validated by msgspec; every error is JSON with a machine code (agent/web/errors.py).
"""

from __future__ import annotations

import hmac
from typing import Any, TypeVar

import msgspec
from flask import Blueprint, Response, current_app, jsonify, request

from agent.counter import MessageCode
from agent.service import CounterService
from agent.web import schemas
from agent.web.errors import ApiError
from agent.web.serialise import document_json, message_json, missing_json, outcome_json, view_json

api = Blueprint("api", __name__, url_prefix="/api/v1")
T = TypeVar("T")
PAGE_TOKEN_HEADER = "X-Counter-Token"


def _state() -> dict[str, Any]:
    return current_app.extensions["drugtrace"]  # type: ignore[no-any-return]


def service() -> CounterService:
    return _state()["service"]  # type: ignore[no-any-return]


def authorised() -> bool:
    """True for the configured bearer token or the page token (compared in constant time)."""
    state = _state()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), state["settings"].token.encode()):
        return True
    page_token = request.headers.get(PAGE_TOKEN_HEADER, "")
    return bool(page_token) and hmac.compare_digest(page_token.encode(), state["page_token"].encode())


@api.before_request
def _require_token() -> None:
    if not authorised():
        raise ApiError.of(MessageCode.UNAUTHORIZED)


def body(kind: type[T]) -> T:
    """The request's JSON body as `kind`; a clear 400 for malformed JSON or wrong fields."""
    data = request.get_data(cache=False)
    try:
        return msgspec.json.decode(data or b"null", type=kind)
    except msgspec.ValidationError as exc:
        raise ApiError.of(MessageCode.BAD_REQUEST, detail=str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ApiError.of(MessageCode.BAD_REQUEST, detail=f"expected a JSON object, got malformed JSON ({exc})") \
            from None


def _document(doc_id: str, status: int = 200) -> Response:
    response = jsonify({"document": document_json(service().document(doc_id))})
    response.status_code = status
    return response


@api.post("/documents")
def open_document() -> Response:
    request_body = body(schemas.OpenDocument)
    document = service().open_document(
        request_body.kind, supplier=request_body.supplier, invoice=request_body.invoice, change=request_body.change,
        reason=request_body.reason, original_doc=request_body.original_doc, original_setl_id=request_body.setl_id,
        activate=request_body.activate)
    return _document(document.doc_id, 201)


@api.get("/documents/<doc_id>")
def get_document(doc_id: str) -> Response:
    return _document(doc_id)


@api.post("/documents/<doc_id>/lines")
def add_line(doc_id: str) -> Response:
    line = body(schemas.AddLine)
    service().add_line(doc_id, line.product, quantity=line.quantity, price_fen=line.price_fen,
                       trdn_flag=line.trdn_flag, rx=line.rx, batch=line.batch, expiry=line.expiry)
    return _document(doc_id, 201)


@api.post("/documents/<doc_id>/scans")
def add_scan(doc_id: str) -> Response:
    scan = body(schemas.AddScan)
    outcome = service().scan_text(doc_id, scan.raw, "pos", scan.line)
    return jsonify({"outcome": outcome_json(outcome), "document": document_json(service().document(doc_id))})


@api.get("/documents/<doc_id>/settle-check")
def settle_check(doc_id: str) -> Response:
    message, missing = service().may_settle(doc_id)
    return jsonify({"allowed": not missing, **message_json(message), "missing": [missing_json(m) for m in missing]})


@api.post("/documents/<doc_id>/settlement")
def settle(doc_id: str) -> Response:
    request_body = body(schemas.Settle)
    service().settle(doc_id, setl_id=request_body.setl_id, payment=request_body.payment,
                     total_fen=request_body.total_fen, fund_fen=request_body.fund_fen, psn_no=request_body.psn_no)
    return _document(doc_id)


@api.post("/documents/<doc_id>/overrides")
def override(doc_id: str) -> Response:
    request_body = body(schemas.OverrideLine)
    service().override(doc_id, request_body.line, request_body.reason, request_body.operator)
    return _document(doc_id, 201)


@api.post("/documents/<doc_id>/finish")
def finish(doc_id: str) -> Response:
    service().finish(doc_id)
    return _document(doc_id)


@api.post("/documents/<doc_id>/cancel")
def cancel(doc_id: str) -> Response:
    service().cancel(doc_id)
    return _document(doc_id)


@api.post("/documents/<doc_id>/activate")
def activate(doc_id: str) -> Response:
    service().activate(doc_id)
    return _document(doc_id)


@api.get("/counter")
def counter_view() -> Response:
    return jsonify(view_json(service().view()))
