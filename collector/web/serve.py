"""Serve the collector's web app (dashboard + metrics) with waitress, a production WSGI server.

`WebServer` runs in a background thread (as `drugtrace-collector run` needs) and keeps the
dashboard's daily aggregates current with a periodic job; `drugtrace-collector web` runs the
same in the foreground, without ingest, for deployments that put the dashboard on its own host.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from collector.config import CollectorConfig
from collector.web import aggregates, create_app
from collector.web.db import connect

log = logging.getLogger(__name__)


def app_settings(config: CollectorConfig, ingest_stats: object | None = None) -> dict[str, Any]:
    """The Flask settings for a collector configuration."""
    return {
        "LEDGER_PATH": str(config.path(config.store.path)),
        "INGEST_STATS": ingest_stats,
        "DASH_COUNTY": config.county,
        "DASH_UTC_OFFSET_MINUTES": round(config.rules.utc_offset_hours * 60),
        "DASH_SILENT_AFTER_MINUTES": config.rules.silent_after_minutes,
        "DASH_COLLECTION_THRESHOLD": config.rules.collection_threshold,
        "DASH_STILLS_DIR": str(config.path("stills")),
        "DASH_CACHE_MIB": config.store.cache_mib,
    }


class WebServer:
    """waitress on (host, port) in a thread, plus the aggregates job; `server_port`, `shutdown()`."""

    def __init__(self, app: Any, host: str, port: int, *, threads: int = 8, refresh_seconds: float = 30.0) -> None:
        self.app = app
        self.server = create_server(app, host=host, port=port, threads=threads, ident="drugtrace-collector",
                                    clear_untrusted_proxy_headers=True)
        self.server_port: int = self.server.effective_port  # type: ignore[union-attr]
        self.refresh_seconds = refresh_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> WebServer:
        self._threads = [threading.Thread(target=self.serve_forever, name="web", daemon=True),
                         threading.Thread(target=self._refresh_loop, name="web-aggregates", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self.server.run()
        except Exception as exc:  # closing the listener from another thread ends run() with an error
            log.debug("web server ended: %r", exc)

    def _refresh_loop(self) -> None:
        cfg = self.app.config
        conn = connect(Path(cfg["LEDGER_PATH"]))
        try:
            while not self._stop.is_set():
                try:
                    aggregates.refresh_all(conn, cfg["DASH_UTC_OFFSET_MINUTES"], step=200_000)
                    conn.execute("PRAGMA optimize")
                except sqlite3.Error as exc:  # a busy database: try again next round
                    log.warning("dashboard aggregates not refreshed: %s", exc)
                self._stop.wait(self.refresh_seconds)
        finally:
            conn.close()

    def shutdown(self) -> None:
        self._stop.set()
        self.server.close()
        wasyncore.close_all(self.server._map)  # type: ignore[union-attr]  # open keep-alive channels too
        self.server.task_dispatcher.shutdown(timeout=2)  # type: ignore[union-attr]
        for thread in self._threads:
            thread.join(timeout=10)


def make_web_server(config: CollectorConfig, ingest_stats: object | None = None) -> WebServer:
    """The collector's web server for `config` (not yet started)."""
    return WebServer(create_app(app_settings(config, ingest_stats)), config.web.host, config.web.port)
