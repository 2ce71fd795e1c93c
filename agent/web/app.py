"""`create_app(service, settings)`: the agent's local web server (POS API + counter page).

Bound to loopback by whoever serves it (waitress in agent/app.py). Requests whose Host header is
not a loopback name are refused (a DNS-rebinding guard); the POS API needs the bearer token from
the configuration; the counter page's own calls carry a per-process page token instead.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from agent.counter import MessageCode, render
from agent.errors import ConfigurationError
from agent.service import CounterService, ServiceError
from agent.web.errors import ApiError, error_response

log = logging.getLogger(__name__)
MIN_TOKEN = 16
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class WebSettings:
    """token: the POS API's bearer token (at least 16 characters). allowed_hosts: Host names accepted."""

    token: str
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    language: str = "zh"  # the counter page's default; "en" for English
    poll_ms: int = 700

    @classmethod
    def from_config(cls, config: object) -> WebSettings:
        """From an agent.config.AgentConfig (its [web] section)."""
        web = config.web  # type: ignore[attr-defined]
        hosts = LOOPBACK_HOSTS + ((web.host,) if web.allow_remote else ())
        return cls(token=web.token, allowed_hosts=hosts)


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def create_app(service: CounterService, settings: WebSettings) -> Flask:
    """The Flask application with the POS API (/api/v1) and the counter page (/)."""
    if len(settings.token) < MIN_TOKEN:
        raise ConfigurationError(f"Expected a POS API token of at least {MIN_TOKEN} characters, "
                                 f"got {len(settings.token)}.")
    from agent.web.api import api
    from agent.web.page import page

    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, JSON_AS_ASCII=False)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["drugtrace"] = {"service": service, "settings": settings,
                                   "page_token": secrets.token_urlsafe(24)}

    @app.before_request
    def _only_known_hosts() -> Response | None:
        if _host_name(request.host) not in settings.allowed_hosts:
            return error_response(render(MessageCode.BAD_REQUEST, detail=f"unexpected Host header {request.host!r}"))
        return None

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.message, exc.detail)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        return error_response(exc.message, exc.detail)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = {404: MessageCode.NOT_FOUND, 405: MessageCode.METHOD_NOT_ALLOWED}.get(exc.code or 0)
        message = render(code) if code else render(MessageCode.BAD_REQUEST, detail=exc.description or exc.name)
        response = error_response(message)
        response.status_code = exc.code or 400
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(render(MessageCode.INTERNAL))

    app.register_blueprint(api)
    app.register_blueprint(page)
    return app
