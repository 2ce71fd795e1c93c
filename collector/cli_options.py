"""What every `drugtrace-collector` command shares: the --config option and loading it once."""

from __future__ import annotations

from pathlib import Path

import click

from drugtrace.errors import DrugTraceError

CONFIG_OPTION = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                             envvar="DRUGTRACE_COLLECTOR_CONFIG", help="Collector TOML file (see docs/collector.md).")


def load_config_or_fail(config_path: Path | None):  # type: ignore[no-untyped-def]
    """The validated collector configuration, or a click error that says what was wrong."""
    from collector.config import load

    try:
        return load(config_path)
    except DrugTraceError as exc:
        raise click.ClickException(str(exc)) from None
