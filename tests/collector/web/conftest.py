"""Fixtures: a dashboard app on a real ledger file filled by real ingest, users of each role, signed-in clients."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from collector.web import create_app
from collector.web.accounts import Role, add_user
from collector.web.db import connect, write
from tests.collector.web.support import NOW, PASSWORDS, Clock, County, csrf_of, populate


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture(scope="session")
def template_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty ledger with every migration applied and one user of each role (scrypt hashing is slow: once)."""
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    create_app({"LEDGER_PATH": str(path), "TESTING": True})
    conn = connect(path)
    with write(conn):
        for name, role in (("admin", Role.ADMIN), ("li.auditor", Role.AUDITOR), ("wang.viewer", Role.VIEWER)):
            add_user(conn, name, PASSWORDS[name], role, NOW)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def app(template_ledger: Path, ledger_path: Path, clock: Clock) -> Flask:
    shutil.copyfile(template_ledger, ledger_path)
    return create_app({"LEDGER_PATH": str(ledger_path), "TESTING": True, "DASH_CLOCK": clock, "DASH_COUNTY": "C1",
                       "DASH_STILLS_DIR": str(ledger_path.parent / "stills")})


@pytest.fixture
def county(app: Flask, ledger_path: Path) -> County:
    return populate(ledger_path)


def sign_in(client: FlaskClient, username: str, password: str | None = None) -> str:
    """Sign in through the form (with its CSRF token); returns the session's CSRF token for later POSTs."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password or PASSWORDS[username],
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_of(client.get("/codes/").get_data(as_text=True))


@pytest.fixture
def signed_in(app: Flask) -> Callable[[str], tuple[FlaskClient, str]]:
    def make(username: str) -> tuple[FlaskClient, str]:
        client = app.test_client()
        return client, sign_in(client, username)
    return make
