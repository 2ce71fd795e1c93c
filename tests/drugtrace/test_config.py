"""Configuration loading: TOML plus environment overrides, validated with named errors."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from drugtrace.config import env_overrides, load_config
from drugtrace.errors import ConfigError
from drugtrace.pseudonym import pseudonymise


class Mqtt(msgspec.Struct, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: int = 1883


class Sample(msgspec.Struct, forbid_unknown_fields=True):
    store: str
    mqtt: Mqtt = msgspec.field(default_factory=Mqtt)


def test_file_then_env(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('store = "S1"\n[mqtt]\nport = 1884\n')
    config = load_config(Sample, path, env_prefix="X", environ={"X__MQTT__HOST": "broker.local", "OTHER": "1"})
    assert config == Sample(store="S1", mqtt=Mqtt(host="broker.local", port=1884))


def test_env_values_are_typed() -> None:
    assert env_overrides("X", {"X__A__B": "12", "X__C": "true", "X__D": "plain text"}) == {
        "a": {"b": 12}, "c": True, "d": "plain text"}


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        pytest.param('store = "S1"\n[mqtt]\nport = "x"\n', {}, "Expected `int`, got `str` - at `$.mqtt.port`",
                     id="wrong-type"),
        pytest.param('[mqtt]\nport = 1\n', {}, "Object missing required field `store`", id="missing"),
        pytest.param('store = "S1"\nstor = 2\n', {}, "unknown field `stor`", id="typo"),
        pytest.param('store = "S1"\n', {"X__MQTT__PORT": "nope"}, "at `$.mqtt.port`", id="bad-env"),
        pytest.param('store = [\n', {}, "Expected valid TOML", id="bad-toml"),
    ],
)
def test_errors_name_the_field(tmp_path: Path, text: str, environ: dict[str, str], message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=".*") as info:
        load_config(Sample, path, env_prefix="X", environ=environ)
    assert message in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Expected a configuration file"):
        load_config(Sample, tmp_path / "nope.toml", env_prefix="X", environ={})


def test_pseudonym_is_stable_keyed_and_hides_the_number() -> None:
    key = b"county-key-0123456789"
    one = pseudonymise("420100199001011234", key)
    assert one == pseudonymise("420100199001011234", key)
    assert one != pseudonymise("420100199001011234", b"another-county-key-xx")
    assert len(one) == 34 and one.startswith("p_")
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        pseudonymise("x", b"short")
