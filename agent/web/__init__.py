"""The agent's local web server: the POS API (JSON, /api/v1) and the counter page (/)."""

from agent.web.app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
