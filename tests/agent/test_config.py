"""The agent's configuration: the shipped sample loads, overrides apply, unsafe settings are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import load_agent_config
from agent.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "firmware_configs/devices/agent.sample.toml"
TOKEN = "a-long-enough-pos-token"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "county.key"
    path.write_text("county-key-with-enough-bytes\n")
    return path


def test_the_shipped_sample_loads_with_secrets_from_the_environment(key_file: Path) -> None:
    config = load_agent_config(SAMPLE, environ={
        "DRUGTRACE_AGENT__PSEUDONYM_KEY_FILE": str(key_file), "DRUGTRACE_AGENT__WEB__TOKEN": TOKEN,
        "DRUGTRACE_AGENT__MQTT__PASSWORD": "secret"})
    assert (config.store_id, config.county_id) == ("S001", "421000")
    assert (config.mqtt_username, config.mqtt_client_id) == ("S001", "agent-S001")
    assert config.mqtt.tls.enabled and config.mqtt.password == "secret"
    assert [s.profile for s in config.scanners] == ["generic-usb-cdc", "generic-keyboard-wedge"]
    assert config.pseudonym_key_bytes() == b"county-key-with-enough-bytes"
    assert config.topic("events") == "drugtrace/421000/S001/events"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text('store_id = "S9"\ncounty_id = "C1"\npseudonym_key = "0123456789abcdef!"\n'
                    f'[web]\ntoken = "{TOKEN}"\n' + text)
    return path


def test_relative_paths_are_resolved_against_the_file(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(f'store_id = "S9"\ncounty_id = "C1"\ndata_dir = "state"\npseudonym_key_file = "k"\n'
                    f'[web]\ntoken = "{TOKEN}"\n')
    (tmp_path / "k").write_text("k" * 16)
    config = load_agent_config(path, environ={})
    assert config.outbox_path == tmp_path / "state" / "outbox.sqlite"


@pytest.mark.parametrize(
    ("extra", "environ", "message"),
    [
        pytest.param("", {"DRUGTRACE_AGENT__WEB__HOST": "0.0.0.0"}, "Expected web.host to be a loopback address",
                     id="web-not-loopback"),
        pytest.param("", {"DRUGTRACE_AGENT__WEB__TOKEN": "short"}, "Expected web.token of at least 16 characters",
                     id="short-token"),
        pytest.param("", {"DRUGTRACE_AGENT__PSEUDONYM_KEY": "tiny"},
                     "Expected a county pseudonym key of at least 16 bytes", id="short-key"),
        pytest.param("", {"DRUGTRACE_AGENT__PSEUDONYM_KEY_FILE": "/nonexistent/k"},
                     "Expected a readable pseudonym key file at /nonexistent/k", id="missing-key-file"),
        pytest.param('[[scanners]]\nname = "a"\nprofile = "p"\ndevice = "loop://"\n'
                     '[[scanners]]\nname = "a"\nprofile = "p"\ndevice = "loop://"\n', {},
                     "Expected unique scanner names, got a more than once", id="duplicate-scanner"),
        pytest.param('[mqtt]\nprot = 1\n', {}, "Object contains unknown field `prot` - at `$.mqtt`", id="typo"),
        pytest.param("", {"DRUGTRACE_AGENT__MQTT__PORT": "70000"}, "Expected `int` <= 65535 - at `$.mqtt.port`",
                     id="env-port-out-of-range"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(tmp_path: Path, extra: str, environ: dict[str, str],
                                                       message: str) -> None:
    path = write(tmp_path, extra)
    with pytest.raises(ConfigurationError) as caught:
        load_agent_config(path, environ=environ)
    assert message in str(caught.value)


def test_remote_web_access_needs_an_explicit_yes(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    environ = {"DRUGTRACE_AGENT__WEB__HOST": "0.0.0.0", "DRUGTRACE_AGENT__WEB__ALLOW_REMOTE": "true"}
    assert load_agent_config(path, environ=environ).web.host == "0.0.0.0"
