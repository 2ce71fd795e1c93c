"""Every shipped scanner profile loads; a device's overrides win; mistakes name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ScannerConfig
from agent.errors import ConfigurationError
from agent.sources.profiles import DEFAULT_DIR, Transport, load_profile, profile_names, resolve
from drugtrace.codes import GS, ScanOptions


@pytest.mark.parametrize("name", profile_names())
def test_every_shipped_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert profile.description and profile.terminator
    assert all(fnc1 for fnc1 in profile.fnc1)
    settings = resolve(ScannerConfig(name="s", profile=name, device="loop://"))
    assert settings.options.strip.startswith("\r\n")


def test_the_expected_models_and_modes_are_shipped() -> None:
    names = set(profile_names())
    assert {"generic-usb-cdc", "generic-rs232", "generic-keyboard-wedge", "honeywell-usb-serial", "zebra-usb-cdc",
            "newland-usb-cdc"} <= names
    assert load_profile("generic-keyboard-wedge").transport is Transport.KEYBOARD
    assert load_profile("honeywell-usb-serial").aim_prefix is True


def test_device_overrides_win_over_the_profile() -> None:
    settings = resolve(ScannerConfig(name="front", profile="generic-rs232", device="/dev/ttyUSB0", baud=19200,
                                     terminator="\r", fnc1=["~"], suffix="#", max_line=64))
    assert (settings.baud, settings.terminator, settings.max_line) == (19200, b"\r", 64)
    assert settings.options == ScanOptions(strip="\r\n\r", fnc1=("~",), prefix="", suffix="#")
    default = resolve(ScannerConfig(name="back", profile="generic-rs232", device="/dev/ttyUSB1"))
    assert (default.baud, default.terminator, default.options.fnc1) == (9600, b"\r\n", (GS,))


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"Expected a scanner profile named 'nope' in .*known: .*rs232"):
        load_profile("nope")


def test_an_invalid_profile_names_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('description = "x"\ntransport = "bluetooth"\nterminator = "\\r"\n')
    with pytest.raises(ConfigurationError, match=r"Invalid scanner profile bad.toml: .* - at `\$.transport`"):
        load_profile("bad", tmp_path)


def test_default_dir_is_in_the_repository() -> None:
    assert DEFAULT_DIR.name == "scanners" and DEFAULT_DIR.parent.name == "firmware_configs"
