"""A Flask test client over a CounterService backed by a real SQLite outbox file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from agent.outbox import SqliteOutbox
from agent.service import CounterService
from agent.web import WebSettings, create_app
from drugtrace.events import AnyEvent
from tests.agent.counter.helpers import ManualClock, make_service, stored_events

TOKEN = "pos-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Pos:
    """The POS side of the API, plus a view into the outbox the agent wrote."""

    client: FlaskClient
    service: CounterService
    outbox: SqliteOutbox
    clock: ManualClock

    def call(self, method: str, path: str, body: Any = None, status: int | None = None) -> dict[str, Any]:
        response = self.client.open(f"/api/v1{path}", method=method, json=body, headers=AUTH)
        if status is not None:
            assert response.status_code == status, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def open(self, kind: str = "sale", **header: Any) -> str:
        return self.call("POST", "/documents", {"kind": kind, **header}, 201)["document"]["doc_id"]  # type: ignore[no-any-return]

    def line(self, doc: str, product: str, quantity: int, **fields: Any) -> dict[str, Any]:
        return self.call("POST", f"/documents/{doc}/lines", {"product": product, "quantity": quantity, **fields}, 201)

    def scan(self, doc: str, raw: str, **fields: Any) -> dict[str, Any]:
        return self.call("POST", f"/documents/{doc}/scans", {"raw": raw, **fields}, 200)["outcome"]  # type: ignore[no-any-return]

    def events(self) -> list[AnyEvent]:
        return stored_events(self.outbox)


@pytest.fixture
def pos(tmp_path: Path) -> Iterator[Pos]:
    clock = ManualClock()
    service, outbox = make_service(tmp_path / "outbox.sqlite", clock=clock)
    app = create_app(service, WebSettings(token=TOKEN))
    yield Pos(app.test_client(), service, outbox, clock)
    outbox.close()
