"""Wiring: config -> SqliteOutbox -> CounterService -> scanner sources and cameras -> uplink -> local web server.

`build_agent` validates everything that can be wrong at start (configuration, key, profiles,
catalogue file) before any thread starts; `Agent.run_until_signal` serves until SIGTERM/SIGINT and
then stops in order: scanners first (no new scans), web server, cameras (queued settlement
evidence is written), heartbeats, uplink (which says "offline" on the retained status topic),
outbox last. A durable settlement is handed to the cameras by the outbox wrapper (`WakingStore`).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from agent.catalogue import Catalogue, CatalogueError, read_catalogue
from agent.config import AgentConfig
from agent.errors import ConfigurationError
from agent.outbox import SqliteOutbox
from agent.ports import DocumentRecord, FillLevel, LocalCodeState
from agent.service import CounterService, CounterSettings
from agent.sources import Source, build_sources
from agent.uplink.heartbeat import HeartbeatWriter
from agent.uplink.mqtt import MqttUplink
from agent.uplink.printer import PrintingUplink
from drugtrace import __version__
from drugtrace.events import AnyEvent, Settlement

if TYPE_CHECKING:
    from agent.camera.service import CameraService

log = logging.getLogger("agent")
PRUNE_EVERY_S = 3600.0


class Uplink(Protocol):
    def start(self) -> None: ...
    def stop(self, timeout: float = 5.0) -> None: ...
    def wake(self) -> None: ...


class WakingStore:
    """The outbox as the counter sees it: every commit wakes the uplink so events leave at once."""

    def __init__(self, outbox: SqliteOutbox, uplink: Uplink) -> None:
        self.outbox = outbox
        self.uplink = uplink
        self.on_settled: Any = None  # the cameras' queue of settlements awaiting evidence

    def commit(self, document: DocumentRecord | None, events: Sequence[AnyEvent]) -> list[AnyEvent]:
        sealed = self.outbox.commit(document, events)
        if sealed:
            self.uplink.wake()
            if self.on_settled is not None:
                for event in sealed:
                    if isinstance(event, Settlement):
                        self.on_settled(event)
        return sealed

    def open_documents(self) -> list[DocumentRecord]:
        return self.outbox.open_documents()

    def code_state(self, key: str) -> LocalCodeState | None:
        return self.outbox.code_state(key)

    def fill_level(self) -> FillLevel:
        return self.outbox.fill_level()


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def load_catalogue(config: AgentConfig) -> Catalogue:
    if not config.catalogue:
        log.warning("catalogue missing=true hint='set catalogue = \"FILE.csv\" in the configuration'")
        return Catalogue()
    try:
        loaded = read_catalogue(Path(config.catalogue))
    except CatalogueError as exc:
        raise ConfigurationError(str(exc)) from None
    for problem in loaded.problems[:20]:
        log.warning("catalogue problem=%r", str(problem))
    log.info("catalogue products=%d problems=%d", len(loaded.catalogue.products), len(loaded.problems))
    return loaded.catalogue


@dataclass
class Agent:
    config: AgentConfig
    outbox: SqliteOutbox
    service: CounterService
    sources: list[Source]
    uplink: MqttUplink | PrintingUplink
    heartbeat: HeartbeatWriter
    web_app: Any
    cameras: CameraService | None = None
    _server: Any = None
    _web_thread: threading.Thread | None = None

    def scanner_health(self) -> list:  # type: ignore[type-arg]
        return [source.health() for source in self.sources]

    def start(self) -> None:
        import waitress

        self.uplink.start()
        self.heartbeat.start()
        if self.cameras is not None:
            self.cameras.start()
        for source in self.sources:
            source.start()
        web = self.config.web
        self._server = waitress.create_server(self.web_app, host=web.host, port=web.port, threads=4,
                                              ident="drugtrace-agent")
        self._web_thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self._web_thread.start()
        log.info("agent state=started store=%s version=%s web=http://%s:%s scanners=%d cameras=%d mode=%s",
                 self.config.store_id, __version__, web.host, self.web_port, len(self.sources),
                 len(self.cameras.workers) if self.cameras is not None else 0,
                 "test" if isinstance(self.uplink, PrintingUplink) else "mqtt")

    @property
    def web_port(self) -> int:
        return int(self._server.effective_port) if self._server is not None else self.config.web.port

    def _serve(self) -> None:
        try:
            self._server.run()
        except Exception as exc:  # closing the listener from another thread ends run() with an error
            log.debug("web server ended: %r", exc)

    def stop(self) -> None:
        for source in self.sources:
            source.stop()
        if self._server is not None:
            self._server.close()
            self._server.task_dispatcher.shutdown(timeout=2)
        if self.cameras is not None:
            self.cameras.stop()
        self.heartbeat.stop()
        self.uplink.stop()
        self.outbox.close()
        log.info("agent state=stopped")

    def run_until_signal(self) -> None:
        """Serve until SIGTERM or SIGINT; prune acknowledged events hourly."""
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.start()
        try:
            while not stop.wait(PRUNE_EVERY_S):
                pruned = self.outbox.prune(self.config.outbox.keep_sent_days * 86400)
                if pruned:
                    log.info("outbox pruned=%d", pruned)
        finally:
            self.stop()


def build_agent(config: AgentConfig, *, test_mode: bool = False, out: TextIO = sys.stdout) -> Agent:
    """Everything constructed and checked; nothing started yet."""
    from agent.camera.service import CameraService, camera_setups
    from agent.camera.still import StillStore
    from agent.camera.upload import StillResponder
    from agent.web import WebSettings, create_app

    key = config.pseudonym_key_bytes()
    catalogue = load_catalogue(config)
    setups = camera_setups(config) if config.cameras else []
    outbox = SqliteOutbox(config.outbox_path, store=config.store_id, capacity=config.outbox.capacity,
                          nearly_full_ratio=config.outbox.nearly_full_ratio)
    stills = None
    commands = {}
    if setups:
        retention = next((s.profile.still_retention for s in setups if s.evidence), setups[0].profile.still_retention)
        stills = StillStore(config.stills_dir, retention=retention)
        commands["still"] = StillResponder(config.store_id, stills.read)
    uplink: MqttUplink | PrintingUplink = (PrintingUplink(outbox, out, config.outbox.batch_size) if test_mode
                                          else MqttUplink(config, outbox, commands=commands))
    settings = CounterSettings(store_id=config.store_id, pseudonym_key=key)
    waking = WakingStore(outbox, uplink)
    service = CounterService(waking, catalogue, settings, _now)
    sources = build_sources(config, service.handle_scan)
    cameras = None
    if stills is not None:
        cameras = CameraService(setups, waking, store=config.store_id, stills=stills, on_scan=service.handle_scan,
                                pending=outbox.evidence_pending)
        outbox.track_evidence = cameras.evidence_camera is not None
        waking.on_settled = cameras.settled
    heartbeat = HeartbeatWriter(outbox, store=config.store_id, version=__version__,
                                interval_s=config.heartbeat.interval_s,
                                scanners=lambda: [source.health() for source in sources],
                                cameras=cameras.health if cameras is not None else list, on_commit=uplink.wake)
    web_app = create_app(service, WebSettings.from_config(config))
    return Agent(config=config, outbox=outbox, service=service, sources=sources, uplink=uplink,
                 heartbeat=heartbeat, web_app=web_app, cameras=cameras)
