"""Run the collector: (embedded broker) + ledger + MQTT ingest + metrics web server, until stopped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from collector.alerts.recording import LifecycleLedger
from collector.broker.credentials import collector_account, set_embedded_password
from collector.broker.embedded import EmbeddedBroker
from collector.config import BrokerMode, CollectorConfig, EvaluatorMode
from collector.ingest.evaluator import Evaluator
from collector.ingest.stats import IngestStats
from collector.ingest.gc_tuning import tune_gc
from collector.ingest.subscriber import Subscriber
from collector.ledger_service import LedgerService
from collector.notify.worker import Notifier
from collector.stills import StillArchive
from collector.store.sqlite import SQLiteLedger
from collector.web.serve import WebServer, make_web_server

log = logging.getLogger(__name__)


def open_ledger(config: CollectorConfig, *, cache_mib: int | None = None, mapped: bool = False) -> SQLiteLedger:
    """The ledger with the alert lifecycle and the notification outbox (collector.alerts, collector.notify);
    `cache_mib` instead of the configured page cache (a connection that never reads histories);
    `mapped`: memory-map `[store] mmap_mib` of the file (the evaluator's history reads)."""
    return LifecycleLedger(config.path(config.store.path), cache_mib=cache_mib or config.store.cache_mib,
                           synchronous=config.store.synchronous, mmap_mib=config.store.mmap_mib if mapped else 0)


def open_ingest_ledger(config: CollectorConfig) -> SQLiteLedger:
    """The ledger as ingest writes it: WAL checkpoints run in a thread of their own."""
    ledger = open_ledger(config)
    ledger.start_checkpointer()
    return ledger


@dataclass
class Running:
    subscriber: Subscriber
    broker: EmbeddedBroker | None
    web: WebServer | None
    ledger: SQLiteLedger
    notifier: Notifier | None = None
    evaluator: Evaluator | None = None

    @property
    def web_port(self) -> int | None:
        return self.web.server_port if self.web is not None else None

    def stop(self) -> None:
        self.subscriber.stop()
        if self.evaluator is not None:
            self.evaluator.stop()  # after ingest: it judges everything stored, then ends
        if self.notifier is not None:
            self.notifier.stop()
        if self.web is not None:
            self.web.shutdown()
        if self.broker is not None:
            self.broker.stop()
        self.ledger.close()


def start(config: CollectorConfig) -> Running:
    """Start every part in order; the caller stops them with `Running.stop()`."""
    account = collector_account(config)
    broker = None
    if config.broker.mode is BrokerMode.EMBEDDED:
        set_embedded_password(config.path(config.broker.embedded_password_file), account.username, account.password)
        broker = EmbeddedBroker(config.broker.bind, config.broker.port,
                                config.path(config.broker.embedded_password_file), config.county)
        broker.start()
    ledger = open_ingest_ledger(config)
    tune_gc()
    stats = IngestStats()
    service = LedgerService(ledger, config.county, config.rules, stills=StillArchive(config.path("stills")))
    evaluator = None
    if config.ingest.evaluator is EvaluatorMode.PROCESS:
        evaluator = Evaluator(config)
        evaluator.start()
    subscriber = Subscriber(service, config.broker, account.password, config.ingest, stats,
                            shared=config.broker.mode is BrokerMode.EXTERNAL, evaluator=evaluator)
    subscriber.start()
    web = None
    if config.web.enabled:
        web = make_web_server(config, stats).start()  # waitress: the dashboard and /metrics
    notifier = None
    if config.notify.endpoints:  # notifications are queued in the ledger either way
        notifier = Notifier(config.path(config.store.path), config.county, config.notify, config.rules.tz)
        notifier.start()
    return Running(subscriber, broker, web, ledger, notifier, evaluator)
