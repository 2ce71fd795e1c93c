"""The demo's one data folder: collector configuration with the demo thresholds, store accounts,
each agent's configuration (from `store add`'s snippet), the catalogue and the county key.

Layout (all under DATA)::

    collector/collector.toml, ledger.db, broker/…, collector.log
    stores/S01/agent.toml, data/outbox.sqlite, scanner -> /dev/pts/N, agent.log
    county.key, catalogue.csv, dashboard-login.txt, summary.txt
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from collector.broker.credentials import add_store, agent_snippet
from collector.config import CollectorConfig, load
from collector.demo.products import catalogue_csv
from collector.errors import CollectorError

MARKER = ".drugtrace-demo"
COUNTY = "demo"


class DemoError(CollectorError):
    """The demo could not set up, run or check the county."""


@dataclass(frozen=True)
class Timing:
    """The thresholds the demo shortens so that a day fits in a minute (docs/demo.md says why)."""

    grace_s: float = 10.0  # rule 6: provenance grace (default 72 h)
    silent_s: float = 15.0  # rule 11: no heartbeat for this long (default 15 min of opening hours)
    heartbeat_s: float = 1.0  # agents' heartbeat interval (default 60 s)
    periodic_s: int = 1  # collector's time-based rules run this often (default 60 s)


@dataclass(frozen=True)
class StoreSetup:
    store: str
    name: str
    folder: Path
    config: Path
    scanner_link: Path
    web_port: int
    token: str

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/api/v1"

    @property
    def counter_page(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/"


@dataclass(frozen=True)
class CountySetup:
    data: Path
    collector_config: Path
    config: CollectorConfig
    county_key: bytes
    stores: tuple[StoreSetup, ...]
    webhook: bool  # a generic JSON webhook endpoint is configured (the notifiers exist)

    @property
    def ledger(self) -> Path:
        return self.config.path(self.config.store.path)

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.config.web.port}/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wipe(data: Path) -> bool:
    """Empty `data` for a new run; refuses a non-empty folder that no demo made. True if it was wiped."""
    if not data.exists():
        data.mkdir(parents=True)
        (data / MARKER).write_text("made by drugtrace-collector demo; wiped at each demo start\n")
        return False
    if any(data.iterdir()) and not (data / MARKER).exists():
        raise DemoError(f"Expected {data} to be empty or an earlier demo's folder (with {MARKER}), got other "
                        "files: choose another folder with --data.")
    for child in data.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    (data / MARKER).write_text("made by drugtrace-collector demo; wiped at each demo start\n")
    return True


def notifiers_available() -> bool:
    """True once the collector's configuration has a [notify] section (engineer E's notifiers)."""
    return "notify" in CollectorConfig.__struct_fields__


def collector_toml(broker_port: int, web_port: int, timing: Timing, webhook_url: str | None) -> str:
    text = f"""# Written by drugtrace-collector demo: embedded broker, SQLite ledger, demo thresholds.
county = "{COUNTY}"
data_dir = "."

[broker]
mode = "embedded"
host = "127.0.0.1"
bind = "127.0.0.1"
port = {broker_port}

[ingest]
commit_interval_ms = 50
periodic_rules_s = {timing.periodic_s}       # default 60: time-based rules (6, 10, 11) checked every second

[rules]
provenance_grace_hours = {timing.grace_s / 3600!r}   # default 72: a {timing.grace_s:g} s grace
silent_after_minutes = {timing.silent_s / 60!r}      # default 15: {timing.silent_s:g} s without a heartbeat

[rules.opening_hours]              # default 08:00-22:00; the demo's stores never close
opens = 00:00:00
closes = 00:00:00

[web]
enabled = true
host = "127.0.0.1"
port = {web_port}
"""
    if webhook_url:
        text += f"""
[notify]
poll_s = 0.2
retry_initial_s = 0.5
retry_max_s = 5.0

[[notify.endpoints]]
name = "demo-webhook"
kind = "webhook"
url = "{webhook_url}"
min_severity = "low"
digest = false
"""
    return text


def agent_toml(snippet: str, store: StoreSetup, timing: Timing) -> str:
    """The agent's configuration: `store add`'s snippet (it ends inside [mqtt]) plus the demo's parts."""
    return f"""# Written by drugtrace-collector demo for store {store.store} ({store.name}).
data_dir = "data"
pseudonym_key_file = "../../county.key"
catalogue = "../../catalogue.csv"
{snippet}reconnect_min_s = 0.2
reconnect_max_s = 2.0

[heartbeat]
interval_s = {timing.heartbeat_s!r}

[web]
host = "127.0.0.1"
port = {store.web_port}
token = "{store.token}"

[[scanners]]
name = "counter1"
profile = "generic-usb-cdc"
device = {json.dumps(str(store.scanner_link))}
"""


def prepare(data: Path, stores: tuple[tuple[str, str], ...], timing: Timing, webhook_url: str | None) -> CountySetup:
    """Write every file of the county into `data` (already wiped) and create the store accounts."""
    data = data.resolve()
    county_key = secrets.token_hex(32)
    key_path = data / "county.key"
    key_path.write_text(county_key + "\n")
    key_path.chmod(0o600)
    (data / "catalogue.csv").write_text(catalogue_csv(), encoding="utf-8")
    collector_dir = data / "collector"
    collector_dir.mkdir()
    config_path = collector_dir / "collector.toml"
    config_path.write_text(collector_toml(free_port(), free_port(), timing, webhook_url), encoding="utf-8")
    config = load(config_path, environ={})
    setups = []
    for store, name in stores:
        folder = data / "stores" / store
        folder.mkdir(parents=True)
        setup = StoreSetup(store=store, name=name, folder=folder, config=folder / "agent.toml",
                           scanner_link=folder / "scanner", web_port=free_port(), token=secrets.token_urlsafe(24))
        snippet = agent_snippet(config, add_store(config, store), config.broker.host)
        setup.config.write_text(agent_toml(snippet, setup, timing), encoding="utf-8")
        setup.config.chmod(0o600)
        setups.append(setup)
    return CountySetup(data=data, collector_config=config_path, config=config, county_key=county_key.encode(),
                       stores=tuple(setups), webhook=webhook_url is not None)
