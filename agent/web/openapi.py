"""The POS API's OpenAPI 3.1 description, built from the request structs (docs/pos-openapi.json).

Regenerate with `python -m agent.web.openapi > docs/pos-openapi.json`; tests/agent/web/test_openapi.py
checks the committed file equals this output, validates it, and finds every route of the blueprint in it.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from agent.counter import MessageCode
from agent.web import schemas

REF = "#/components/schemas/{name}"
REQUESTS = (schemas.OpenDocument, schemas.AddLine, schemas.AddScan, schemas.Settle, schemas.OverrideLine)

_nullable_str = {"type": ["string", "null"]}
_message = {
    "code": {"type": "string", "description": "Stable machine code"},
    "message": {"type": "string", "description": "Chinese message for staff"},
    "message_en": {"type": "string"},
}
RESPONSES: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message", "message_en"],
            "properties": {**_message, "code": {"type": "string", "enum": [c.value for c in MessageCode]},
                           "missing": {"type": "array", "items": {"$ref": REF.format(name="MissingLine")},
                                       "description": "Only for missing_codes: the lines lacking codes"}},
        }},
    },
    "MissingLine": {
        "type": "object", "required": ["line", "product", "name", "boxes_required", "codes", "missing"],
        "properties": {"line": {"type": "integer"}, "product": {"type": "string"}, "name": {"type": "string"},
                       "boxes_required": {"type": "integer"}, "codes": {"type": "integer"},
                       "missing": {"type": "integer", "description": "Boxes on the line still without a code"}},
    },
    "Line": {
        "type": "object",
        "required": ["line", "product", "name", "quantity", "trdn_flag", "needs_codes", "boxes_required", "missing",
                     "codes"],
        "properties": {
            "line": {"type": "integer"}, "product": {"type": "string"}, "name": {"type": "string"},
            "quantity": {"type": "integer"}, "price_fen": {"type": "integer"}, "trdn_flag": {"type": "integer"},
            "rx": {"type": "boolean"}, "needs_codes": {"type": "boolean"}, "units_per_box": {"type": "integer"},
            "boxes_required": {"type": "integer"}, "missing": {"type": "integer"},
            "codes": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string"}, "kind": {"type": "string"}, "expiry": _nullable_str}}},
            "override": {"type": ["object", "null"], "properties": {
                "reason": {"type": "string"}, "operator": {"type": "string"}, "missing": {"type": "integer"}}},
        },
    },
    "Document": {
        "type": "object", "required": ["doc_id", "kind", "status", "opened_at", "lines"],
        "properties": {
            "doc_id": {"type": "string"}, "kind": {"type": "string"}, "kind_zh": {"type": "string"},
            "kind_en": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "settled", "closed", "cancelled"]},
            "opened_at": {"type": "string", "format": "date-time"}, "supplier": {"type": "string"},
            "invoice": {"type": "string"}, "original_doc": {"type": "string"},
            "lines": {"type": "array", "items": {"$ref": REF.format(name="Line")}},
            "settlement": {"type": ["object", "null"], "properties": {
                "setl_id": {"type": "string"}, "payment": {"type": "string"}, "total_fen": {"type": "integer"},
                "fund_fen": {"type": "integer"},
                "person": {**_nullable_str, "description": "The county pseudonym; the real psn_no is never kept"}}},
        },
    },
    "DocumentResponse": {"type": "object", "required": ["document"],
                         "properties": {"document": {"$ref": REF.format(name="Document")}}},
    "ScanOutcome": {
        "type": "object", "required": ["verdict", "accepted", "code", "message", "message_en"],
        "properties": {**_message, "verdict": {"type": "string", "enum": ["accepted", "warning", "refused"]},
                       "accepted": {"type": "boolean"}, "doc_id": _nullable_str,
                       "line": {"type": ["integer", "null"]}, "key": _nullable_str, "raw": {"type": "string"}},
    },
    "ScanResponse": {"type": "object", "required": ["outcome", "document"],
                     "properties": {"outcome": {"$ref": REF.format(name="ScanOutcome")},
                                    "document": {"$ref": REF.format(name="Document")}}},
    "SettleCheck": {
        "type": "object", "required": ["allowed", "code", "message", "message_en", "missing"],
        "properties": {**_message, "allowed": {"type": "boolean"},
                       "missing": {"type": "array", "items": {"$ref": REF.format(name="MissingLine")}}},
    },
    "CounterView": {"type": "object", "description": "The counter page's read model",
                    "properties": {"active": {"oneOf": [{"$ref": REF.format(name="Document")}, {"type": "null"}]},
                                   "missing": {"type": "array", "items": {"$ref": REF.format(name="MissingLine")}},
                                   "last": {"type": ["object", "null"]}, "recent": {"type": "array"},
                                   "open_documents": {"type": "array"}, "outbox": {"type": "object"},
                                   "outbox_warning": {"type": ["object", "null"]}}},
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(name="Error")}}}}


def _ok(name: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF.format(name=name)}}}}


def _operation(summary: str, ok_status: str, ok: dict[str, Any], *, request: type | None = None,
               errors: dict[str, str] | None = None, doc_path: bool = True) -> dict[str, Any]:
    responses = {ok_status: ok, "401": _error("Missing or wrong bearer token"),
                 **{status: _error(text) for status, text in (errors or {}).items()}}
    if request is not None:
        responses.setdefault("400", _error("Malformed JSON, wrong types or unknown fields (bad_request)"))
    if doc_path:
        responses.setdefault("404", _error("Unknown document (unknown_document)"))
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if request is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": REF.format(name=request.__name__)}}}}
    return operation


DOC = [{"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"}}]
STATE = "409"


def build() -> dict[str, Any]:
    """The OpenAPI document as a dict."""
    _, components = msgspec.json.schema_components(REQUESTS, ref_template=REF)
    paths: dict[str, Any] = {
        "/api/v1/documents": {"post": _operation(
            "Open a document (sale, receipt, purchase return, stock change, stocktake, sale return)", "201",
            _ok("DocumentResponse", "Opened"), request=schemas.OpenDocument, doc_path=False)},
        "/api/v1/documents/{doc_id}": {"parameters": DOC, "get": _operation(
            "Get an open or recently closed document", "200", _ok("DocumentResponse"))},
        "/api/v1/documents/{doc_id}/lines": {"parameters": DOC, "post": _operation(
            "Add a line (product, quantity in boxes or, for trdn_flag 1, minimum units)", "201",
            _ok("DocumentResponse", "Line added"), request=schemas.AddLine,
            errors={STATE: "Document not open", "422": "Unknown product, split-pack quantity not less than a box"})},
        "/api/v1/documents/{doc_id}/scans": {"parameters": DOC, "post": _operation(
            "Add a scan from a POS-side scanner; refusals are answered 200 with accepted=false", "200",
            _ok("ScanResponse"), request=schemas.AddScan,
            errors={STATE: "Document not open", "422": "Unknown line", "503": "Outbox full"})},
        "/api/v1/documents/{doc_id}/settle-check": {"parameters": DOC, "get": _operation(
            "May I settle with insurance? Yes, or the missing boxes per line", "200", _ok("SettleCheck"),
            errors={STATE: "Not a sale, or not open"})},
        "/api/v1/documents/{doc_id}/settlement": {"parameters": DOC, "post": _operation(
            "Settle a sale; insurance is refused (409 missing_codes) while code-requiring boxes lack codes", "200",
            _ok("DocumentResponse", "Settled"), request=schemas.Settle,
            errors={STATE: "missing_codes (with the lines), not a sale, or not open",
                    "422": "Bad amounts, psn_no missing for insurance, empty document", "503": "Outbox full"})},
        "/api/v1/documents/{doc_id}/overrides": {"parameters": DOC, "post": _operation(
            "Allow settlement despite missing codes on a line: recorded with reason and operator, and reported",
            "201", _ok("DocumentResponse", "Override recorded"), request=schemas.OverrideLine,
            errors={STATE: "Nothing to override, not a sale, or not open", "422": "Reason or operator missing",
                    "503": "Outbox full"})},
        "/api/v1/documents/{doc_id}/finish": {"parameters": DOC, "post": _operation(
            "Finish a non-sale document (a sale is finished by settling)", "200", _ok("DocumentResponse"),
            errors={STATE: "A sale (must_settle), or not open"})},
        "/api/v1/documents/{doc_id}/cancel": {"parameters": DOC, "post": _operation(
            "Void an open document; a sale's scanned codes are returned to stock by SaleReturn events", "200",
            _ok("DocumentResponse"), errors={STATE: "Not open", "503": "Outbox full"})},
        "/api/v1/documents/{doc_id}/activate": {"parameters": DOC, "post": _operation(
            "Make the document the one device scanners feed", "200", _ok("DocumentResponse"),
            errors={STATE: "Not open"})},
        "/api/v1/counter": {"get": _operation(
            "The counter's state (active document, missing boxes, last scans, outbox fill)", "200",
            _ok("CounterView"), doc_path=False)},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "DrugTrace agent POS API", "version": "1",
                 "description": "Local HTTP API of the pharmacy agent, bound to loopback. See docs/pos-api.md."},
        "servers": [{"url": "http://127.0.0.1:8765"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": {**components, **RESPONSES},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
