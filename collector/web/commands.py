"""`drugtrace-collector users …` and `drugtrace-collector web`: dashboard accounts and serving it alone."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
from pathlib import Path

import click

from collector.cli_options import CONFIG_OPTION, load_config_or_fail
from drugtrace.errors import DrugTraceError


def _connection(config_path: Path | None):  # type: ignore[no-untyped-def]
    from collector.web.db import connect, prepare

    config = load_config_or_fail(config_path)
    path = config.path(config.store.path)
    prepare(path)
    return connect(path)


def _password(password_file: Path | None) -> str:
    """From the file (first line), from stdin when it is not a terminal, else prompted twice."""
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)  # type: ignore[no-any-return]


@click.group()
def users() -> None:
    """Manage the dashboard's users (roles viewer, auditor, admin) and their API tokens.

    \b
    Example:
        drugtrace-collector users add li.auditor --role auditor --config collector.toml
    """


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["viewer", "auditor", "admin"]), default="viewer", show_default=True)
@click.option("--password-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Read the password from this file's first line (else stdin, else a prompt).")
@CONFIG_OPTION
def users_add(username: str, role: str, password_file: Path | None, config_path: Path | None) -> None:
    """Create a dashboard user; the first one should be an admin.

    The password (at least 10 characters) is prompted for, read from stdin when it is piped in,
    or read from --password-file; only its scrypt hash is stored.

    \b
    Example:
        drugtrace-collector users add admin --role admin --config collector.toml
        printf '%s\\n' "$PASSWORD" | drugtrace-collector users add wang --role viewer --config collector.toml
    """
    from collector.web.accounts import AccountError, AuditAction, Role, add_user, audit
    from collector.web.db import write

    password = _password(password_file)
    conn = _connection(config_path)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        with write(conn):
            add_user(conn, username, password, Role(role), now)
            audit(conn, now, "cli", AuditAction.USER_ADDED, target=username, detail=role)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        conn.close()
    click.echo(f"user {username} added with role {role}.")


@users.command("token")
@click.argument("username")
@click.option("--label", default="api", show_default=True, help="What the token is for (kept with it).")
@CONFIG_OPTION
def users_token(username: str, label: str, config_path: Path | None) -> None:
    """Make an API token for USERNAME (it acts with that user's role); shown once.

    \b
    Example:
        drugtrace-collector users token li.auditor --label "case system" --config collector.toml
    """
    from collector.web.accounts import AccountError, AuditAction, add_token, audit
    from collector.web.db import write

    conn = _connection(config_path)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        with write(conn):
            token = add_token(conn, username, label, now)
            audit(conn, now, "cli", AuditAction.TOKEN_ADDED, target=username, detail=label)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        conn.close()
    click.echo(token)


@click.command("web")
@CONFIG_OPTION
def web(config_path: Path | None) -> None:
    """Serve the dashboard (and /metrics) alone with waitress, without broker or ingest, until stopped.

    For large deployments that run ingest and the dashboard as separate processes on one ledger;
    listens on [web] host and port.

    \b
    Example:
        drugtrace-collector web --config /etc/drugtrace/collector.toml
    """
    from collector.web.serve import make_web_server

    config = load_config_or_fail(config_path)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server = make_web_server(config).start()
    except (DrugTraceError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"dashboard on http://{config.web.host}:{server.server_port}/ (county {config.county}); "
               "Ctrl-C to stop.")
    stop.wait()
    server.shutdown()
    click.echo("stopped.")
