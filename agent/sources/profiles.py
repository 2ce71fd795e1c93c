"""Scanner profiles (firmware_configs/scanners/NAME.toml): how a scanner model/mode delivers codes.

A profile is loaded by name and merged with a `[[scanners]]` entry's overrides into the settings a
source runs with, including the drugtrace.codes.ScanOptions used to normalise each line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from agent.config import ScannerConfig
from agent.errors import ConfigurationError
from drugtrace.codes import GS, ScanOptions
from drugtrace.config import read_toml
from drugtrace.errors import ConfigError

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "firmware_configs" / "scanners"


class Transport(enum.Enum):
    SERIAL = "serial"  # USB-CDC or RS-232 through pyserial
    KEYBOARD = "keyboard"  # USB-HID keyboard wedge through evdev


class ScannerProfile(Struct, frozen=True, forbid_unknown_fields=True):
    description: str
    transport: Transport
    terminator: Annotated[str, Meta(min_length=1, max_length=4)]
    baud: Annotated[int, Meta(ge=50)] = 9600
    aim_prefix: bool = False
    fnc1: list[Annotated[str, Meta(min_length=1, max_length=4)]] = msgspec.field(default_factory=lambda: [GS])
    prefix: str = ""
    suffix: str = ""
    max_line: Annotated[int, Meta(ge=8, le=4096)] = 512


@dataclass(frozen=True)
class SourceSettings:
    """A profile with one device's overrides applied: what a source runs with."""

    name: str
    profile: str
    device: str
    transport: Transport
    baud: int
    terminator: bytes
    aim_prefix: bool
    max_line: int
    options: ScanOptions


def profile_names(directory: Path = DEFAULT_DIR) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.toml"))


def load_profile(name: str, directory: Path = DEFAULT_DIR) -> ScannerProfile:
    """The profile `name`; ConfigurationError names the file and the field when it is invalid."""
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise ConfigurationError(
            f"Expected a scanner profile named {name!r} in {directory}, got none "
            f"(known: {', '.join(profile_names(directory))}).")
    try:
        return msgspec.convert(read_toml(path), ScannerProfile)
    except (ConfigError, msgspec.ValidationError) as exc:
        raise ConfigurationError(f"Invalid scanner profile {path.name}: {exc}") from None


def resolve(scanner: ScannerConfig, directory: Path = DEFAULT_DIR) -> SourceSettings:
    """Merge a configured scanner's overrides into its profile."""
    profile = load_profile(scanner.profile, directory)

    def pick(value, default):  # type: ignore[no-untyped-def]
        return default if value is None else value

    terminator = pick(scanner.terminator, profile.terminator)
    if not terminator or not terminator.isascii():
        raise ConfigurationError(f"Expected an ASCII terminator for scanner {scanner.name!r}, got {terminator!r}.")
    fnc1 = tuple(pick(scanner.fnc1, profile.fnc1))
    options = ScanOptions(strip="\r\n" + terminator, fnc1=fnc1 or (GS,), prefix=pick(scanner.prefix, profile.prefix),
                          suffix=pick(scanner.suffix, profile.suffix))
    return SourceSettings(
        name=scanner.name, profile=scanner.profile, device=scanner.device, transport=profile.transport,
        baud=pick(scanner.baud, profile.baud), terminator=terminator.encode("ascii"), aim_prefix=profile.aim_prefix,
        max_line=pick(scanner.max_line, profile.max_line), options=options,
    )
