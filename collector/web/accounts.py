"""Dashboard accounts: users with hashed passwords and roles, server-side sessions, API tokens, audit log.

Plain functions over a sqlite3 connection; the clock (`now`) is passed in. Passwords are hashed
with werkzeug.security (scrypt); session ids and API tokens are random and only their SHA-256 is
stored, so a copy of the database does not let anyone in.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from collector.errors import CollectorError
from collector.store.base import stamp

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class AccountError(CollectorError):
    """A user, password, session or token was refused."""


class Role(enum.Enum):
    """What a dashboard user may do; each role may do everything the ones before it may."""

    VIEWER = "viewer"  # reads every page
    AUDITOR = "auditor"  # also acknowledges, confirms and dismisses alerts
    ADMIN = "admin"  # also manages users and reads the audit log

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class User:
    username: str
    role: Role


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    username: str
    action: str
    target: str
    detail: str
    address: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_user(conn: sqlite3.Connection, username: str, password: str, role: Role, now: dt.datetime) -> User:
    """Create a user (or raise AccountError naming what was wrong)."""
    if not USERNAME.match(username):
        raise AccountError(f"Expected a user name of 1-64 letters, digits or _.@-, got {username!r}.")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Expected a password of at least {MIN_PASSWORD} characters, got {len(password)}.")
    try:
        conn.execute("INSERT INTO dash_users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                     (username, generate_password_hash(password), role.value, stamp(now)))
    except sqlite3.IntegrityError:
        raise AccountError(f"Expected a new user name, got {username!r} which exists already.") from None
    return User(username, role)


def set_password(conn: sqlite3.Connection, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Expected a password of at least {MIN_PASSWORD} characters, got {len(password)}.")
    if conn.execute("UPDATE dash_users SET password_hash = ? WHERE username = ?",
                    (generate_password_hash(password), username)).rowcount == 0:
        raise AccountError(f"Expected an existing user, got {username!r}.")
    conn.execute("DELETE FROM dash_sessions WHERE username = ?", (username,))


def set_role(conn: sqlite3.Connection, username: str, role: Role) -> None:
    if conn.execute("UPDATE dash_users SET role = ? WHERE username = ?", (role.value, username)).rowcount == 0:
        raise AccountError(f"Expected an existing user, got {username!r}.")


def set_disabled(conn: sqlite3.Connection, username: str, disabled: bool) -> None:
    if conn.execute("UPDATE dash_users SET disabled = ? WHERE username = ?", (int(disabled), username)).rowcount == 0:
        raise AccountError(f"Expected an existing user, got {username!r}.")
    if disabled:
        conn.execute("DELETE FROM dash_sessions WHERE username = ?", (username,))
        conn.execute("DELETE FROM dash_api_tokens WHERE username = ?", (username,))


def users(conn: sqlite3.Connection) -> list[tuple[User, bool, str]]:
    """Every user with whether it is disabled and when it was created."""
    return [(User(name, Role(role)), bool(disabled), created) for name, role, disabled, created in conn.execute(
        "SELECT username, role, disabled, created_at FROM dash_users ORDER BY username")]


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> User | None:
    """The user if the password is right and the account enabled; the same work is done either way."""
    row = conn.execute("SELECT password_hash, role, disabled FROM dash_users WHERE username = ?",
                       (username,)).fetchone()
    if row is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(row[0], password) or row[2]:
        return None
    return User(username, Role(row[1]))


# -- sessions -------------------------------------------------------------------------------------


def start_session(conn: sqlite3.Connection, user: User, now: dt.datetime) -> str:
    """A new session for `user`; returns the id to put in the (signed) cookie."""
    sid = secrets.token_urlsafe(32)
    conn.execute("INSERT INTO dash_sessions (id_hash, username, created_at, last_seen) VALUES (?, ?, ?, ?)",
                 (_digest(sid), user.username, stamp(now), stamp(now)))
    return sid


def session_user(conn: sqlite3.Connection, sid: str, now: dt.datetime, idle: dt.timedelta,
                 lifetime: dt.timedelta) -> User | None:
    """The signed-in user of session `sid`, or None when it is unknown, idle too long or too old.

    An expired session is deleted; a live one is marked seen (at most once a minute, to spare writes)."""
    row = conn.execute(
        "SELECT s.username, s.created_at, s.last_seen, u.role, u.disabled FROM dash_sessions s "
        "JOIN dash_users u ON u.username = s.username WHERE s.id_hash = ?", (_digest(sid),)).fetchone()
    if row is None:
        return None
    username, created, seen, role, disabled = row
    if disabled or now - _parse(seen) > idle or now - _parse(created) > lifetime:
        conn.execute("DELETE FROM dash_sessions WHERE id_hash = ?", (_digest(sid),))
        return None
    if now - _parse(seen) > dt.timedelta(minutes=1):
        conn.execute("UPDATE dash_sessions SET last_seen = ? WHERE id_hash = ?", (stamp(now), _digest(sid)))
    return User(username, Role(role))


def end_session(conn: sqlite3.Connection, sid: str) -> None:
    conn.execute("DELETE FROM dash_sessions WHERE id_hash = ?", (_digest(sid),))


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- API tokens -----------------------------------------------------------------------------------


def add_token(conn: sqlite3.Connection, username: str, label: str, now: dt.datetime) -> str:
    """A new API token for an existing, enabled user; returns it (shown once)."""
    row = conn.execute("SELECT disabled FROM dash_users WHERE username = ?", (username,)).fetchone()
    if row is None or row[0]:
        raise AccountError(f"Expected an existing, enabled user, got {username!r}.")
    token = "dt_" + secrets.token_urlsafe(32)
    conn.execute("INSERT INTO dash_api_tokens (token_hash, username, label, created_at) VALUES (?, ?, ?, ?)",
                 (_digest(token), username, label, stamp(now)))
    return token


def token_user(conn: sqlite3.Connection, token: str) -> User | None:
    row = conn.execute(
        "SELECT u.username, u.role FROM dash_api_tokens t JOIN dash_users u ON u.username = t.username "
        "WHERE t.token_hash = ? AND u.disabled = 0", (_digest(token),)).fetchone()
    return None if row is None else User(row[0], Role(row[1]))


# -- audit log ------------------------------------------------------------------------------------


class AuditAction(enum.Enum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    SESSION_EXPIRED = "session_expired"
    ALERT_ACTION = "alert_action"
    ALERT_ACTION_REFUSED = "alert_action_refused"
    USER_ADDED = "user_added"
    USER_CHANGED = "user_changed"
    TOKEN_ADDED = "token_added"


def audit(conn: sqlite3.Connection, now: dt.datetime, username: str, action: AuditAction, target: str = "",
          detail: str = "", address: str = "") -> None:
    conn.execute("INSERT INTO dash_audit (at, username, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
                 (stamp(now), username, action.value, target, detail, address))


def audit_log(conn: sqlite3.Connection, before: int | None = None, limit: int = 100) -> list[AuditEntry]:
    """Newest first; `before` is the id of the last entry of the previous page."""
    rows = conn.execute("SELECT id, at, username, action, target, detail, address FROM dash_audit "
                        "WHERE id < ? ORDER BY id DESC LIMIT ?", (before or 2**62, limit)).fetchall()
    return [AuditEntry(*row) for row in rows]


def secret_key(conn: sqlite3.Connection) -> str:
    """The key that signs session cookies, made once and kept in the database."""
    conn.execute("INSERT OR IGNORE INTO dash_settings (name, value) VALUES ('secret_key', ?)",
                 (secrets.token_hex(32),))
    row = conn.execute("SELECT value FROM dash_settings WHERE name = 'secret_key'").fetchone()
    return str(row[0])
