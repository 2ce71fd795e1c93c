"""The collector's web application (flaskr-style factory); issue 6 adds the dashboard blueprints."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Settings: LEDGER_PATH (the SQLite ledger), INGEST_STATS (live counters, optional)."""
    app = Flask(__name__)
    app.config.from_mapping(LEDGER_PATH=None, INGEST_STATS=None)
    if test_config:
        app.config.from_mapping(test_config)

    from collector.web import metrics

    app.register_blueprint(metrics.bp)
    app.teardown_appcontext(metrics.close_ledger)

    from collector.web import dashboard  # issue 6: the county dashboard (settings in collector/web/dashboard.py)

    dashboard.init_app(app)
    return app
