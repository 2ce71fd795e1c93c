"""Per-store broker accounts: passwords hashed for both brokers, ACL blocks, the agent's snippet.

Mosquitto's password file is written by `mosquitto_passwd` (PBKDF2-SHA512, `$7$`); the embedded
amqtt broker reads an argon2 file of the same `user:hash` shape. Secrets are shown once and
never stored in clear text, except the collector's own (mode 0600, it must log in unattended).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from collector.broker.topics import COLLECTOR_USER, check_store_id, mosquitto_acl_lines
from collector.config import BrokerMode, CollectorConfig
from collector.errors import CollectorError

_hasher = PasswordHash((Argon2Hasher(),))


class CredentialsError(CollectorError):
    """A password or ACL file could not be written."""


@dataclass(frozen=True)
class Account:
    username: str
    password: str


def new_password() -> str:
    return secrets.token_urlsafe(24)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _set_line(path: Path, username: str, hashed: str) -> None:
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if line.split(":", 1)[0] != username]
    _write_private(path, "\n".join([*kept, f"{username}:{hashed}"]) + "\n")


def set_embedded_password(path: Path, username: str, password: str) -> None:
    """Add or replace `username` in the embedded broker's argon2 password file."""
    _set_line(path, username, _hasher.hash(password))


def set_mosquitto_password(path: Path, username: str, password: str) -> None:
    """Add or replace `username` in a Mosquitto password file with `mosquitto_passwd -b`."""
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _write_private(path, "")
    result = subprocess.run([tool, "-b", str(path), username, password], capture_output=True, text=True)
    if result.returncode != 0:
        raise CredentialsError(f"Expected mosquitto_passwd to add {username!r} to {path}, got: {result.stderr.strip()}")


def set_acl(path: Path, username: str, county: str) -> None:
    """Replace `username`'s block in a Mosquitto acl_file (blocks start at `user NAME`)."""
    blocks: list[list[str]] = []
    header: list[str] = []
    for line in (path.read_text().splitlines() if path.exists() else []):
        if line.startswith("user "):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            header.append(line)
    kept = [b for b in blocks if b[0] != f"user {username}"]
    kept.append(mosquitto_acl_lines(username, county))
    text = "\n".join(header + ["\n".join(line for line in b if line.strip()) + "\n" for b in kept])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")


def _register(config: CollectorConfig, account: Account) -> None:
    set_embedded_password(config.path(config.broker.embedded_password_file), account.username, account.password)
    set_mosquitto_password(config.path(config.broker.mosquitto_password_file), account.username, account.password)
    set_acl(config.path(config.broker.mosquitto_acl_file), account.username, config.county)


def collector_account(config: CollectorConfig) -> Account:
    """The collector's own account: the configured password, else the secret file (made on first use)."""
    if config.broker.password:
        return Account(COLLECTOR_USER, config.broker.password)
    secret = config.path(config.broker.password_path)
    if secret.exists():
        return Account(COLLECTOR_USER, secret.read_text().strip())
    account = Account(COLLECTOR_USER, new_password())
    _register(config, account)
    _write_private(secret, account.password + "\n")
    return account


def add_store(config: CollectorConfig, store: str) -> Account:
    """Create (or replace) a store's account on both brokers; the password is returned once."""
    check_store_id(store)
    collector_account(config)
    account = Account(store, new_password())
    _register(config, account)
    return account


def agent_snippet(config: CollectorConfig, account: Account, host: str) -> str:
    """The agent configuration lines for this store (TOML that drugtrace-agent's config accepts).

    The embedded broker (amqtt) speaks MQTT 3.1.1 only; Mosquitto gets MQTT 5, whose PUBACK
    reports a refused publish so the agent keeps the events instead of losing them.
    """
    protocol = "3.1.1" if config.broker.mode is BrokerMode.EMBEDDED else "5"
    lines = [
        f'store_id = "{account.username}"',
        f'county_id = "{config.county}"',
        "",
        "[mqtt]",
        f'protocol = "{protocol}"',
        f'host = "{host}"',
        f"port = {config.broker.port}",
        f'username = "{account.username}"',
        f'password = "{account.password}"',
    ]
    if config.broker.tls:
        lines += ["", "[mqtt.tls]", 'ca = "ca.crt"  # the county CA certificate, copied next to agent.toml']
    return "\n".join(lines) + "\n"
