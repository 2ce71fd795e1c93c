"""The collector's configuration: one TOML file plus `DRUGTRACE_COLLECTOR__SECTION__KEY` overrides.

Relative paths are resolved against `data_dir`; the documented sample is `docs/collector.sample.toml`.
"""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from collector.notify.config import Notify
from collector.rules.settings import RuleSettings
from collector.sequences import ResendPolicy
from drugtrace.config import load_config

ENV_PREFIX = "DRUGTRACE_COLLECTOR"
Port = Annotated[int, Meta(ge=0, le=65535)]
Positive = Annotated[int, Meta(ge=1)]
NonNegative = Annotated[int, Meta(ge=0)]


class BrokerMode(enum.Enum):
    EMBEDDED = "embedded"  # the collector starts amqtt itself (first run, small counties)
    EXTERNAL = "external"  # a Mosquitto run by the operating system (production)


class EvaluatorMode(enum.Enum):
    PROCESS = "process"  # the rules run in a second process while ingest commits (two CPU cores)
    INLINE = "inline"  # the rules run in each ingest transaction (one process; slower, simpler to debug)


class DecoderMode(enum.Enum):
    PROCESS = "process"  # messages are decoded in a process of their own (the writer never waits for the GIL)
    THREAD = "thread"  # in a thread of the ingest process (one process fewer; slower under load)


class StoreBackend(enum.Enum):
    SQLITE = "sqlite"


class Broker(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[broker]: where the MQTT broker is, and the collector's own account on it."""

    mode: BrokerMode = BrokerMode.EMBEDDED
    host: str = "127.0.0.1"
    port: Port = 1883
    bind: str = "0.0.0.0"  # embedded broker only: the address it listens on
    username: str = "collector"
    password: str = ""  # empty: read from `password_path` (made by `store add` on first use)
    password_path: str = "collector.secret"
    client_id: str = "collector-1"  # distinct per collector process sharing the load
    shared_group: str = "collectors"  # MQTT shared subscription group ("" = plain subscription)
    keepalive: Positive = 30
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    # files kept for the brokers (under data_dir unless absolute)
    mosquitto_password_file: str = "broker/mosquitto.passwd"
    mosquitto_acl_file: str = "broker/mosquitto.acl"
    embedded_password_file: str = "broker/amqtt.passwd"


class Store(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[store]: the ledger database."""

    backend: StoreBackend = StoreBackend.SQLITE
    path: str = "ledger.db"
    cache_mib: Positive = 512  # measured: halves insert cost against 64 on a county-sized ledger
    synchronous: str = "NORMAL"  # NORMAL survives a process crash; FULL also a power cut
    mmap_mib: NonNegative = 2048  # memory-mapped for the evaluator's reads (0: off): 10-15 % less of its CPU


class Ingest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[ingest]: how messages are batched into one transaction."""

    batch_messages: Positive = 200  # at most this many MQTT messages per transaction
    commit_interval_ms: Positive = 100  # a batch closes at most this long after its first message arrived
    periodic_rules_s: Positive = 60  # person, collection and store-health rules
    evaluator: EvaluatorMode = EvaluatorMode.PROCESS  # where the rules run (collector.ingest.evaluator)
    decoder: DecoderMode = DecoderMode.PROCESS  # where messages are decoded (collector.ingest.decoder_process)
    resend_after_s: Positive = 120  # a hole in a store's sequence numbers this old is asked for again
    resend_retry_s: Positive = 600  # between two requests for the same holes
    resend_max_requests: NonNegative = 3  # then the holes stay listed as missing (0: never ask)

    def resend_policy(self) -> ResendPolicy:
        return ResendPolicy(dt.timedelta(seconds=self.resend_after_s), dt.timedelta(seconds=self.resend_retry_s),
                            self.resend_max_requests)


class Web(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[web]: the metrics (and later dashboard) HTTP server."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 8480


class CollectorConfig(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole collector configuration."""

    county: Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    data_dir: str = "collector-data"
    broker: Broker = msgspec.field(default_factory=Broker)
    store: Store = msgspec.field(default_factory=Store)
    ingest: Ingest = msgspec.field(default_factory=Ingest)
    rules: RuleSettings = msgspec.field(default_factory=RuleSettings)
    web: Web = msgspec.field(default_factory=Web)
    notify: Notify = msgspec.field(default_factory=Notify)  # [notify]: see docs/notifications.md

    def path(self, name: str) -> Path:
        """`name` resolved against data_dir (absolute names are kept)."""
        candidate = Path(name)
        return candidate if candidate.is_absolute() else Path(self.data_dir) / candidate


def load(path: Path | None, environ: dict[str, str] | None = None) -> CollectorConfig:
    """Load and validate; relative data_dir is taken relative to the config file's folder."""
    config = load_config(CollectorConfig, path, env_prefix=ENV_PREFIX, environ=environ)
    if path is not None and not Path(config.data_dir).is_absolute():
        config = msgspec.structs.replace(config, data_dir=str(path.resolve().parent / config.data_dir))
    return config
