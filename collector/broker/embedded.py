"""The embedded broker: amqtt, started by the collector in its own thread and event loop.

Same rules as the shipped Mosquitto configuration: password file authentication (argon2, re-read
when the file changes so `store add` needs no restart), no anonymous clients, and per-store topic
rules (`collector.broker.topics.allowed`). amqtt speaks MQTT 3.1.1 and has no shared subscriptions:
one collector process per embedded broker (use Mosquitto to share the load).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.authentication import FileAuthPlugin
from amqtt.plugins.base import BaseTopicPlugin
from amqtt.session import Session

from collector.broker.topics import Access, allowed
from collector.errors import CollectorError

_ACTIONS = {Action.PUBLISH: Access.PUBLISH, Action.SUBSCRIBE: Access.SUBSCRIBE, Action.RECEIVE: Access.RECEIVE}


class BrokerStartError(CollectorError):
    """The embedded broker could not start (port taken, bad password file, ...)."""


class ReloadingFileAuthPlugin(FileAuthPlugin):
    """amqtt's password-file plugin, re-reading the file when its modification time changes."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._mtime = self._file_mtime()

    def _file_mtime(self) -> float:
        path = self._get_config_option("password-file", None)
        try:
            return Path(path).stat().st_mtime if path else 0.0
        except FileNotFoundError:
            return 0.0

    async def authenticate(self, *, session: Session) -> bool | None:
        mtime = self._file_mtime()
        if mtime != self._mtime:
            self._users.clear()
            self._read_password_file()
            self._mtime = mtime
        if not session or not session.username:
            return False  # no anonymous clients
        return await super().authenticate(session=session)


class StoreTopicPlugin(BaseTopicPlugin):
    """Per-store topic rules: a store publishes only its own subtree and reads only its commands."""

    @dataclass
    class Config:
        county: str = ""

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool | None:
        if topic is None or action is None or session is None:
            return False
        return allowed(session.username, self.config.county, topic, _ACTIONS[action])


def broker_config(bind: str, port: int, password_file: Path, county: str) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{bind}:{port}"}},
        "plugins": {
            f"{ReloadingFileAuthPlugin.__module__}.{ReloadingFileAuthPlugin.__name__}": {
                "password_file": str(password_file)},
            f"{StoreTopicPlugin.__module__}.{StoreTopicPlugin.__name__}": {"county": county},
        },
    }


class EmbeddedBroker:
    """amqtt running in a daemon thread; `start()` returns once it listens, `stop()` shuts it down."""

    def __init__(self, bind: str, port: int, password_file: Path, county: str) -> None:
        self._config = broker_config(bind, port, password_file, county)
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Broker | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 15.0) -> None:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._broker = Broker(self._config, loop=loop)
                loop.run_until_complete(self._broker.start())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.close()

        logging.getLogger("amqtt").setLevel(logging.WARNING)
        self._thread = threading.Thread(target=run, name="amqtt-broker", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise BrokerStartError(f"Expected the embedded broker to listen on port {self.port} within {timeout} s.")
        if failure:
            raise BrokerStartError(f"Expected the embedded broker to start on port {self.port}, got: {failure[0]}")

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is None or self._broker is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        try:
            future.result(timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout)
            self._loop = None
            self._broker = None
