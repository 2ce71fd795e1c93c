"""Scanner sources: serial (pyserial) and keyboard-wedge (evdev) readers feeding the counter."""

from __future__ import annotations

from pathlib import Path

from agent.config import AgentConfig
from agent.sources.base import OnScan, Source
from agent.sources.profiles import DEFAULT_DIR, Transport, resolve


def build_sources(config: AgentConfig, on_scan: OnScan, profiles_dir: Path = DEFAULT_DIR) -> list[Source]:
    """One source per configured scanner (profiles resolved now, so mistakes surface at start)."""
    from agent.sources.keyboard import KeyboardSource
    from agent.sources.serial_source import SerialSource

    sources: list[Source] = []
    for scanner in config.scanners:
        settings = resolve(scanner, profiles_dir)
        kind = SerialSource if settings.transport is Transport.SERIAL else KeyboardSource
        sources.append(kind(settings, on_scan))
    return sources


__all__ = ["Source", "build_sources"]
