"""The agent's configuration: one validated `AgentConfig`, loaded once at start.

TOML file plus `DRUGTRACE_AGENT__SECTION__KEY` environment overrides (drugtrace.config), then
cross-field checks that msgspec cannot express (loopback-only web server, pseudonym key length,
unique scanner names). Relative paths are resolved against the configuration file's folder.
The commented sample is `firmware_configs/devices/agent.sample.toml`.
"""

from __future__ import annotations

import enum
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta, Struct, field

from agent.errors import ConfigurationError
from drugtrace.config import load_config
from drugtrace.errors import ConfigError
from drugtrace.pseudonym import MIN_KEY_BYTES

ENV_PREFIX = "DRUGTRACE_AGENT"
Port = Annotated[int, Meta(ge=1, le=65535)]
Name = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class TlsConfig(Struct, frozen=True, forbid_unknown_fields=True):
    """TLS towards the broker; an empty `ca` means TLS is off."""

    ca: str = ""
    cert: str = ""
    key: str = ""
    insecure: bool = False  # skip host-name verification: for a lab only

    @property
    def enabled(self) -> bool:
        return bool(self.ca)


class MqttProtocol(enum.Enum):
    """MQTT 5 reports refused publishes in PUBACK (Mosquitto); 3.1.1 is for brokers without 5 (amqtt)."""

    V5 = "5"
    V311 = "3.1.1"


class MqttConfig(Struct, frozen=True, forbid_unknown_fields=True):
    protocol: MqttProtocol = MqttProtocol.V5
    host: str = "127.0.0.1"
    port: Port = 1883
    username: str = ""  # defaults to the store id
    password: str = ""
    client_id: str = ""  # defaults to agent-{store}
    keepalive: Annotated[int, Meta(ge=5, le=3600)] = 30
    tls: TlsConfig = field(default_factory=TlsConfig)
    max_batch_bytes: Annotated[int, Meta(ge=1024, le=8 * 1024 * 1024)] = 256 * 1024
    max_inflight_batches: Annotated[int, Meta(ge=1, le=20)] = 8
    reconnect_min_s: Annotated[float, Meta(gt=0)] = 0.5
    reconnect_max_s: Annotated[float, Meta(gt=0)] = 30.0


class OutboxConfig(Struct, frozen=True, forbid_unknown_fields=True):
    capacity: Annotated[int, Meta(ge=10)] = 2_000_000  # events not yet acknowledged
    nearly_full_ratio: Annotated[float, Meta(gt=0, le=1)] = 0.8
    batch_size: Annotated[int, Meta(ge=1, le=10_000)] = 500
    keep_sent_days: Annotated[float, Meta(ge=0)] = 30.0


class HeartbeatConfig(Struct, frozen=True, forbid_unknown_fields=True):
    interval_s: Annotated[float, Meta(ge=1)] = 60.0


class WebConfig(Struct, frozen=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: Port = 8765
    token: str = ""
    allow_remote: bool = False  # a non-loopback host is refused unless this is true


class ScannerConfig(Struct, frozen=True, forbid_unknown_fields=True):
    """One scanner: a profile from firmware_configs/scanners/ plus per-device overrides."""

    name: Name
    profile: Name
    device: Annotated[str, Meta(min_length=1)]  # /dev/ttyACM0, a pty path, a pyserial URL, /dev/input/...
    baud: Annotated[int, Meta(ge=50)] | None = None
    terminator: str | None = None
    fnc1: list[str] | None = None
    prefix: str | None = None
    suffix: str | None = None
    max_line: Annotated[int, Meta(ge=8, le=4096)] | None = None


class CameraMode(enum.Enum):
    PROFILE = ""  # as the profile says
    PROCESS = "process"
    THREAD = "thread"


class CameraConfig(Struct, frozen=True, forbid_unknown_fields=True):
    """One counter camera (issue 7): a profile from firmware_configs/cameras/ (or a .toml path) plus overrides."""

    name: Name
    profile: Annotated[str, Meta(min_length=1)]
    source: str = ""  # overrides the profile's [source] uri: a device index, an rtsp:// or http:// URL, a video file
    mode: CameraMode = CameraMode.PROFILE
    evidence: bool = True  # summarise this camera's view at each settlement (the first such camera is used)


class AgentConfig(Struct, frozen=True, forbid_unknown_fields=True):
    store_id: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    county_id: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    data_dir: str = "data"
    pseudonym_key_file: str = ""
    pseudonym_key: str = ""  # prefer DRUGTRACE_AGENT__PSEUDONYM_KEY or the file over the TOML text
    catalogue: str = ""  # CSV path; empty = no catalogue yet
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    heartbeat: HeartbeatConfig = field(default_factory=HeartbeatConfig)
    web: WebConfig = field(default_factory=WebConfig)
    scanners: list[ScannerConfig] = []
    cameras: list[CameraConfig] = []

    @property
    def mqtt_username(self) -> str:
        return self.mqtt.username or self.store_id

    @property
    def mqtt_client_id(self) -> str:
        return self.mqtt.client_id or f"agent-{self.store_id}"

    @property
    def outbox_path(self) -> Path:
        return Path(self.data_dir) / "outbox.sqlite"

    @property
    def stills_dir(self) -> Path:
        """Where the camera's settlement stills are kept (deleted after the profile's retention)."""
        return Path(self.data_dir) / "stills"

    def topic(self, kind: str) -> str:
        """`drugtrace/{county}/{store}/{kind}` (kind: events, status, cmd/NAME, upload/NAME)."""
        return f"drugtrace/{self.county_id}/{self.store_id}/{kind}"

    def pseudonym_key_bytes(self) -> bytes:
        """The county-issued key: from `pseudonym_key_file` if set, else `pseudonym_key`."""
        if self.pseudonym_key_file:
            try:
                key = Path(self.pseudonym_key_file).read_bytes().strip()
            except OSError as exc:
                raise ConfigurationError(f"Expected a readable pseudonym key file at {self.pseudonym_key_file}, "
                                         f"got: {exc.strerror}.") from None
        else:
            key = self.pseudonym_key.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"Expected a county pseudonym key of at least {MIN_KEY_BYTES} bytes "
                f"(pseudonym_key_file or pseudonym_key), got {len(key)}.")
        return key


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _resolve(base: Path, value: str) -> str:
    if not value or "://" in value:
        return value
    path = Path(os.path.expanduser(value))
    return str(path if path.is_absolute() else base / path)


def _resolve_camera(base: Path, camera: CameraConfig) -> CameraConfig:
    source = camera.source if camera.source.isdigit() else _resolve(base, camera.source)
    profile = _resolve(base, camera.profile) if camera.profile.endswith(".toml") else camera.profile
    return msgspec.structs.replace(camera, source=source, profile=profile)


def check(config: AgentConfig) -> None:
    """Cross-field rules; raise ConfigurationError naming the field."""
    if not _is_loopback(config.web.host) and not config.web.allow_remote:
        raise ConfigurationError(
            f"Expected web.host to be a loopback address (127.0.0.1, ::1, localhost), got {config.web.host!r}; "
            "set web.allow_remote = true to serve the POS API beyond this machine.")
    if len(config.web.token) < 16:
        raise ConfigurationError(
            f"Expected web.token of at least 16 characters (the POS API's bearer token), got {len(config.web.token)}.")
    names = [scanner.name for scanner in config.scanners]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(f"Expected unique scanner names, got {', '.join(duplicates)} more than once.")
    cameras = [camera.name for camera in config.cameras]
    duplicates = sorted({name for name in cameras if cameras.count(name) > 1})
    if duplicates:
        raise ConfigurationError(f"Expected unique camera names, got {', '.join(duplicates)} more than once.")
    if config.mqtt.reconnect_max_s < config.mqtt.reconnect_min_s:
        raise ConfigurationError("Expected mqtt.reconnect_max_s >= mqtt.reconnect_min_s, got "
                                 f"{config.mqtt.reconnect_max_s} < {config.mqtt.reconnect_min_s}.")
    config.pseudonym_key_bytes()


def load_agent_config(path: Path | None, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Load, resolve relative paths against the file's folder, and check the configuration."""
    try:
        config = load_config(AgentConfig, path, env_prefix=ENV_PREFIX, environ=environ)
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    base = path.resolve().parent if path is not None else Path.cwd()
    tls = config.mqtt.tls
    config = msgspec.structs.replace(
        config,
        data_dir=_resolve(base, config.data_dir),
        pseudonym_key_file=_resolve(base, config.pseudonym_key_file),
        catalogue=_resolve(base, config.catalogue),
        cameras=[_resolve_camera(base, camera) for camera in config.cameras],
        mqtt=msgspec.structs.replace(config.mqtt, tls=msgspec.structs.replace(
            tls, ca=_resolve(base, tls.ca), cert=_resolve(base, tls.cert), key=_resolve(base, tls.key))),
    )
    check(config)
    return config
