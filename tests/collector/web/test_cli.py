"""`users add`, `users token` and serving the app with waitress, on a real ledger file."""

from __future__ import annotations

from pathlib import Path

import requests
from click.testing import CliRunner

from collector.cli import main
from collector.config import load
from collector.web import create_app
from collector.web.serve import WebServer, app_settings
from tests.collector.web.conftest import sign_in


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "collector.toml"
    path.write_text('county = "C1"\ndata_dir = "data"\n[web]\nport = 0\n')
    return path


def test_first_admin_from_a_password_file_then_from_stdin(tmp_path: Path) -> None:
    config = _config(tmp_path)
    secret = tmp_path / "pw"
    secret.write_text("first-admin-password\n")
    runner = CliRunner()
    made = runner.invoke(main, ["users", "add", "admin", "--role", "admin", "--password-file", str(secret),
                                "--config", str(config)])
    assert made.exit_code == 0, made.output
    assert "user admin added with role admin." in made.output
    piped = runner.invoke(main, ["users", "add", "wang", "--config", str(config)], input="wang-password-1\n")
    assert piped.exit_code == 0, piped.output
    again = runner.invoke(main, ["users", "add", "admin", "--password-file", str(secret), "--config", str(config)])
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(main, ["users", "add", "zhao", "--config", str(config)], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    app = create_app({**app_settings(load(config)), "TESTING": True})
    client = app.test_client()
    sign_in(client, "admin", "first-admin-password")
    assert client.get("/admin/").status_code == 200
    viewer = app.test_client()
    sign_in(viewer, "wang", "wang-password-1")
    assert viewer.get("/admin/").status_code == 403


def test_token_command_makes_a_working_api_token(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["users", "add", "li", "--role", "auditor", "--config", str(config)], input="li-password-1\n")
    made = runner.invoke(main, ["users", "token", "li", "--label", "case system", "--config", str(config)])
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    assert token.startswith("dt_")
    client = create_app({**app_settings(load(config)), "TESTING": True}).test_client()
    assert client.get("/api/v1/overview", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/overview", headers={"Authorization": "Bearer dt_forged"}).status_code == 401
    nobody = runner.invoke(main, ["users", "token", "nobody", "--config", str(config)])
    assert nobody.exit_code == 1 and "Expected an existing, enabled user" in nobody.output


def test_waitress_serves_the_dashboard_and_metrics_and_stops(tmp_path: Path) -> None:
    config = load(_config(tmp_path))
    server = WebServer(create_app(app_settings(config)), "127.0.0.1", 0, refresh_seconds=0.05).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert requests.get(base + "/", allow_redirects=False, timeout=10).status_code == 302
        login = requests.get(base + "/login", timeout=10)
        assert login.status_code == 200 and login.headers["Server"] == "drugtrace-collector"
        assert "drugtrace_ledger_events" in requests.get(base + "/metrics", timeout=10).text
    finally:
        server.shutdown()
    assert not any(t.is_alive() for t in server._threads)
