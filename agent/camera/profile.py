"""Camera profiles: commented TOML files in ``firmware_configs/cameras/``.

Every section maps onto one frozen options object; unknown keys, wrong types and values out of
range are refused when the profile loads (at start, not mid-run), naming file, section and key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.camera.decode import PipelineOptions
from agent.camera.dedupe import DebounceOptions
from agent.camera.errors import ProfileError
from agent.camera.evidence import EvidenceWindow
from agent.camera.health import HealthOptions
from agent.camera.locate import LocateOptions
from agent.camera.presence import PersonDetector, PresenceOptions
from agent.camera.source import SourceOptions

__all__ = ["AnalysisOptions", "ScannerOptions", "CameraProfile", "load_profile", "parse_profile"]

Roi = tuple[float, float, float, float]
WHOLE: Roi = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class AnalysisOptions:
    """How often frames are analysed and what is kept of them."""

    rate: float = 5.0               # analyses per second
    ring_seconds: float = 120.0     # history kept in the ring
    roi: Roi = WHOLE                # where codes are decoded (x, y, w, h as fractions of the frame)
    presence_roi: Roi = WHOLE       # where people are counted
    presence_every_s: float = 1.0   # people detection is slower: run it at most this often
    idle_motion: float = 0.001      # below this share of moving pixels, with no code in view, the scene is idle
    idle_decode_every: int = 5      # ... and only every Nth idle frame is decoded
    still_every_s: float = 1.0      # keep a JPEG for the ring this often
    still_quality: int = 70
    still_width: int = 960
    mode: str = "process"           # "process" or "thread"

    @property
    def ring_capacity(self) -> int:
        """Ring length that holds ``ring_seconds`` at ``rate``."""
        return max(1, int(self.ring_seconds * self.rate) + 1)


@dataclass(frozen=True)
class ScannerOptions:
    """The camera acting as the counter's scanner: decodes become scans, debounced per box."""

    as_scanner: bool = False
    debounce: DebounceOptions = field(default_factory=DebounceOptions)


@dataclass(frozen=True)
class CameraProfile:
    """Everything one counter camera needs."""

    name: str
    source: SourceOptions
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    decode: PipelineOptions = field(default_factory=PipelineOptions)
    presence: PresenceOptions = field(default_factory=PresenceOptions)
    health: HealthOptions = field(default_factory=HealthOptions)
    evidence: EvidenceWindow = field(default_factory=EvidenceWindow)
    still_retention: dt.timedelta = dt.timedelta(days=30)
    scanner: ScannerOptions = field(default_factory=ScannerOptions)


_SECTIONS = {"source", "analysis", "decode", "presence", "health", "evidence", "scanner"}


def load_profile(path: str | Path) -> CameraProfile:
    """Read and check a profile file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"Expected a readable TOML camera profile at {path.name}, got: {exc}") from exc
    return parse_profile(data, where=path.name)


def parse_profile(data: dict[str, Any], where: str = "profile") -> CameraProfile:
    """Build a profile from parsed TOML."""
    unknown = set(data) - _SECTIONS - {"name"}
    if unknown:
        raise ProfileError(f"{where}: expected sections {sorted(_SECTIONS)}, got unknown {sorted(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"{where}: expected a non-empty string 'name', got {name!r}")
    src = dict(_table(data, "source", where))
    if "uri" not in src:
        raise ProfileError(f"{where}: [source] expected key 'uri', got none")
    if isinstance(src["uri"], str) and src["uri"].isdigit():
        src["uri"] = int(src["uri"])
    source = _build(SourceOptions, src, where, "source", allow_any={"uri"})
    analysis = _build(AnalysisOptions, _table(data, "analysis", where), where, "analysis")
    dec = dict(_table(data, "decode", where))
    locate_keys = {f.name for f in dataclasses.fields(LocateOptions)}
    locate = _build(LocateOptions, {k: dec.pop(k) for k in list(dec) if k in locate_keys}, where, "decode")
    decode = _build(PipelineOptions, dec, where, "decode", extra={"locate": locate})
    pres = dict(_table(data, "presence", where))
    if "detectors" in pres:
        pres["detectors"] = _detectors(pres["detectors"], where)
    presence = _build(PresenceOptions, pres, where, "presence", allow_any={"detectors"})
    health = _build(HealthOptions, _table(data, "health", where), where, "health")
    ev = dict(_table(data, "evidence", where))
    retention_days = ev.pop("still_retention_days", 30)
    _check_number(retention_days, where, "evidence", "still_retention_days")
    evidence = EvidenceWindow(**{k: dt.timedelta(seconds=_seconds(ev.pop(f"{k}_s"), where, f"{k}_s"))
                                 for k in ("before", "after", "max_gap") if f"{k}_s" in ev})
    if ev:
        raise ProfileError(f"{where}: [evidence] got unknown keys {sorted(ev)}")
    scan = dict(_table(data, "scanner", where))
    debounce = _build(DebounceOptions, {k: scan.pop(k) for k in ("confirm_frames", "rearm_s") if k in scan},
                      where, "scanner")
    scanner = _build(ScannerOptions, scan, where, "scanner", extra={"debounce": debounce})
    profile = CameraProfile(name=name, source=source, analysis=analysis, decode=decode, presence=presence,
                            health=health, evidence=evidence, still_retention=dt.timedelta(days=retention_days),
                            scanner=scanner)
    _check_ranges(profile, where)
    return profile


def _table(data: dict[str, Any], section: str, where: str) -> dict[str, Any]:
    table = data.get(section, {})
    if not isinstance(table, dict):
        raise ProfileError(f"{where}: expected [{section}] to be a table, got {type(table).__name__}")
    return table


def _build(cls: type, table: dict[str, Any], where: str, section: str, allow_any: Collection[str] = (),
           extra: dict[str, Any] | None = None) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = dict(extra or {})
    for key, value in table.items():
        if key not in fields or key in values:
            raise ProfileError(f"{where}: [{section}] got unknown key {key!r}")
        if key not in allow_any:
            value = _coerce(_default(fields[key]), value, where, section, key)
        values[key] = value
    return cls(**values)


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _coerce(default: Any, value: Any, where: str, section: str, key: str) -> Any:
    expected = type(default)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, tuple):
        ok = isinstance(value, list) and len(value) == len(default) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        value = tuple(float(v) for v in value) if ok else value
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise ProfileError(f"{where}: [{section}] {key} expected {expected.__name__}"
                           f"{f' of {len(default)}' if isinstance(default, tuple) else ''}, got {value!r}")
    return value


def _detectors(value: Any, where: str) -> tuple[PersonDetector, ...]:
    names = [d.value for d in PersonDetector]
    if not isinstance(value, list) or not all(isinstance(v, str) and v in names for v in value):
        raise ProfileError(f"{where}: [presence] detectors expected a list from {names}, got {value!r}")
    return tuple(PersonDetector(v) for v in value)


def _check_number(value: Any, where: str, section: str, key: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ProfileError(f"{where}: [{section}] {key} expected a number of at least 0, got {value!r}")


def _seconds(value: Any, where: str, key: str) -> float:
    _check_number(value, where, "evidence", key)
    return float(value)


def _check_ranges(p: CameraProfile, where: str) -> None:
    checks: list[tuple[bool, str, Any]] = [
        (p.source.max_fps > 0, "[source] max_fps above 0", p.source.max_fps),
        (p.analysis.rate > 0, "[analysis] rate above 0", p.analysis.rate),
        (p.analysis.idle_decode_every >= 1, "[analysis] idle_decode_every of at least 1",
         p.analysis.idle_decode_every),
        (p.analysis.mode in ("process", "thread"), "[analysis] mode 'process' or 'thread'", p.analysis.mode),
        (1 <= p.analysis.still_quality <= 100, "[analysis] still_quality from 1 to 100", p.analysis.still_quality),
        (p.scanner.debounce.confirm_frames >= 1, "[scanner] confirm_frames of at least 1",
         p.scanner.debounce.confirm_frames),
        (p.presence.scale_factor > 1, "[presence] scale_factor above 1", p.presence.scale_factor),
        (p.decode.code128 or p.decode.datamatrix, "[decode] code128 or datamatrix enabled", False),
        (p.analysis.ring_seconds >= (p.evidence.before + p.evidence.after).total_seconds(),
         "[analysis] ring_seconds covering [evidence] before_s + after_s", p.analysis.ring_seconds),
    ]
    for roi_name, roi in (("roi", p.analysis.roi), ("presence_roi", p.analysis.presence_roi)):
        x, y, w, h = roi
        checks.append((0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x + 1e-9 and 0 < h <= 1 - y + 1e-9,
                       f"[analysis] {roi_name} inside the frame as [x, y, w, h] fractions", list(roi)))
    for ok, expected, got in checks:
        if not ok:
            raise ProfileError(f"{where}: expected {expected}, got {got!r}")
