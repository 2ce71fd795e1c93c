"""The documented sample configuration loads, and errors name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import BrokerMode, load
from collector.runner import open_ledger
from drugtrace.errors import ConfigError

SAMPLE = Path(__file__).resolve().parents[2] / "docs/collector.sample.toml"


def test_the_documented_sample_loads_with_its_values() -> None:
    config = load(SAMPLE, environ={})
    assert config.county == "420104" and config.broker.mode is BrokerMode.EMBEDDED
    assert config.rules.provenance_grace_hours == 72.0 and config.store.cache_mib == 512
    assert config.path(config.store.path) == SAMPLE.parent / "collector-data" / "ledger.db"


def test_environment_overrides_the_file() -> None:
    config = load(SAMPLE, environ={"DRUGTRACE_COLLECTOR__BROKER__MODE": "external",
                                   "DRUGTRACE_COLLECTOR__RULES__COLLECTION_THRESHOLD": "0.9"})
    assert config.broker.mode is BrokerMode.EXTERNAL and config.rules.collection_threshold == 0.9


@pytest.mark.parametrize(("text", "message"), [
    pytest.param('county = "C1"\n[broker]\nmode = "cloud"\n', "`$.broker.mode`", id="bad-enum"),
    pytest.param('county = "C1"\n[store]\ncahce_mib = 1\n', "cahce_mib", id="typo"),
    pytest.param('county = "C/1"\n', "`$.county`", id="county-not-a-topic-level"),
])
def test_errors_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=None) as info:
        load(path, environ={})
    assert message in str(info.value)


def test_only_the_evaluators_reading_connection_maps_the_ledger(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('county = "C1"\n[store]\nmmap_mib = 64\n')
    config = load(tmp_path / "c.toml", environ={})
    mapped, plain = open_ledger(config, mapped=True), open_ledger(config)
    try:
        assert mapped.conn.execute("PRAGMA mmap_size").fetchone()[0] == 64 << 20
        assert plain.conn.execute("PRAGMA mmap_size").fetchone()[0] == 0
    finally:
        mapped.close()
        plain.close()
