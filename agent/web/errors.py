"""JSON errors of the local web server: `{"error": {"code", "message", "message_en"}}` with an HTTP status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, jsonify

from agent.counter import Message, MessageCode, MissingLine, render
from agent.errors import AgentError
from agent.web.serialise import missing_json

STATUS = {
    MessageCode.BAD_REQUEST: 400,
    MessageCode.UNAUTHORIZED: 401,
    MessageCode.NOT_FOUND: 404,
    MessageCode.UNKNOWN_DOCUMENT: 404,
    MessageCode.METHOD_NOT_ALLOWED: 405,
    MessageCode.DOCUMENT_NOT_OPEN: 409,
    MessageCode.WRONG_DOCUMENT_KIND: 409,
    MessageCode.MISSING_CODES: 409,
    MessageCode.NOTHING_TO_OVERRIDE: 409,
    MessageCode.MUST_SETTLE: 409,
    MessageCode.UNKNOWN_PRODUCT: 422,
    MessageCode.UNKNOWN_LINE: 422,
    MessageCode.BAD_QUANTITY: 422,
    MessageCode.SPLIT_PACK_NOT_ALLOWED: 422,
    MessageCode.BAD_AMOUNTS: 422,
    MessageCode.PERSON_REQUIRED: 422,
    MessageCode.OVERRIDE_NEEDS_REASON: 422,
    MessageCode.EMPTY_DOCUMENT: 422,
    MessageCode.OUTBOX_FULL: 503,
    MessageCode.INTERNAL: 500,
}


class ApiError(AgentError):
    """Raised in a view to answer with a JSON error."""

    def __init__(self, message: Message, detail: Sequence[object] = ()) -> None:
        super().__init__(message.message_en)
        self.message = message
        self.detail = tuple(detail)

    @classmethod
    def of(cls, code: MessageCode, **params: object) -> ApiError:
        return cls(render(code, **params))


def error_response(message: Message, detail: Sequence[object] = ()) -> Response:
    body: dict[str, Any] = {"code": message.code.value, "message": message.message_zh,
                            "message_en": message.message_en}
    missing = [missing_json(d) for d in detail if isinstance(d, MissingLine)]
    if missing:
        body["missing"] = missing
    response = jsonify({"error": body})
    response.status_code = STATUS.get(message.code, 422)
    if message.code is MessageCode.UNAUTHORIZED:
        response.headers["WWW-Authenticate"] = 'Bearer realm="drugtrace-agent"'
    return response
