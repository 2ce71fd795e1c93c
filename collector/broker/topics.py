"""The fixed topic layout and who may do what on it (pure; shared by both brokers' rules).

A store may publish only under `drugtrace/{county}/{store}/events|status|upload/#` and read only
`drugtrace/{county}/{store}/cmd/#`; the collector account reads everything and writes commands.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from collector.errors import CollectorError

COLLECTOR_USER = "collector"
STORE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Access(enum.Enum):
    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"
    RECEIVE = "receive"


class InvalidStoreId(CollectorError):
    """A store id that cannot be a topic level or a broker username."""


def check_store_id(store: str) -> str:
    """Return `store` if usable as one topic level and username, else raise InvalidStoreId."""
    if not STORE_ID.match(store) or store == COLLECTOR_USER:
        raise InvalidStoreId(
            f"Expected a store id of 1-64 letters, digits, '_' or '-' (not {COLLECTOR_USER!r}), got {store!r}.")
    return store


def events_topic(county: str, store: str) -> str:
    return f"drugtrace/{county}/{store}/events"


def status_topic(county: str, store: str) -> str:
    return f"drugtrace/{county}/{store}/status"


def command_topic(county: str, store: str, name: str) -> str:
    """Where the collector asks a store for something (`still`, `resend`); only that store reads it."""
    return f"drugtrace/{county}/{store}/cmd/{name}"


def ingest_filter(shared_group: str) -> str:
    """The collector's events subscription, shared between collector processes when a group is set."""
    plain = "drugtrace/+/+/events"
    return f"$share/{shared_group}/{plain}" if shared_group else plain


@dataclass(frozen=True)
class TopicParts:
    county: str
    store: str
    kind: str  # events | status | cmd | upload


def parse_topic(topic: str) -> TopicParts | None:
    """Split `drugtrace/{county}/{store}/{kind}[/...]`; None for anything else."""
    levels = topic.split("/")
    if len(levels) < 4 or levels[0] != "drugtrace" or not levels[1] or not levels[2]:
        return None
    return TopicParts(levels[1], levels[2], levels[3])


@dataclass(frozen=True)
class Grants:
    """Topic filters a user may publish to and read from."""

    publish: tuple[str, ...]
    read: tuple[str, ...]


def grants(username: str, county: str) -> Grants:
    """What `username` may do; stores get only their own subtree, unknown names nothing."""
    if username == COLLECTOR_USER:
        return Grants(publish=("drugtrace/+/+/cmd/#",), read=("drugtrace/#",))
    if not STORE_ID.match(username):
        return Grants((), ())
    base = f"drugtrace/{county}/{username}"
    return Grants(publish=(f"{base}/events", f"{base}/status", f"{base}/upload/#"), read=(f"{base}/cmd/#",))


def filter_within(requested: str, allowed: str) -> bool:
    """True when every topic matched by filter `requested` is matched by filter `allowed`."""
    req, alw = requested.split("/"), allowed.split("/")
    for index, level in enumerate(alw):
        if level == "#":
            return True
        if index >= len(req):
            return False
        if req[index] == "#":
            return False
        if level != "+" and level != req[index]:
            return False
        if level == "+" and req[index] == "#":
            return False
    return len(req) == len(alw)


def unshare(topic_filter: str) -> str:
    """`$share/group/a/b` -> `a/b`; other filters unchanged."""
    if topic_filter.startswith("$share/"):
        parts = topic_filter.split("/", 2)
        return parts[2] if len(parts) == 3 else ""
    return topic_filter


def allowed(username: str | None, county: str, topic: str, access: Access) -> bool:
    """The one decision both brokers' rules express: may this user do this on this topic?"""
    if not username:
        return False
    granted = grants(username, county)
    if access is Access.PUBLISH:
        return any(filter_within(topic, pattern) for pattern in granted.publish)
    return any(filter_within(unshare(topic), pattern) for pattern in granted.read)


def mosquitto_acl_lines(username: str, county: str) -> list[str]:
    """The Mosquitto acl_file block for one account."""
    granted = grants(username, county)
    return ([f"user {username}"] + [f"topic write {t}" for t in granted.publish]
            + [f"topic read {t}" for t in granted.read])
