"""`drugtrace-agent`: the pharmacy agent's command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from drugtrace import __version__
from drugtrace.codes import GS, ScanOptions, classify, classify_bytes, explain


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drugtrace-agent")
def main() -> None:
    """DrugTrace agent: capture traceability codes at the pharmacy counter.

    \b
    Example:
        drugtrace-agent explain-code 81234567890123456789
        drugtrace-agent run --config /etc/drugtrace/agent.toml
    """


CONFIG_OPTION = click.option(
    "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The agent's TOML configuration (sample: firmware_configs/devices/agent.sample.toml).")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.INFO,
                        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")


def _load(config_path: Path):  # type: ignore[no-untyped-def]
    from agent.config import load_agent_config
    from agent.errors import AgentError

    try:
        return load_agent_config(config_path)
    except AgentError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("run")
@CONFIG_OPTION
@click.option("--test", "test_mode", is_flag=True,
              help="Print events as JSON lines on standard output instead of sending them (nothing is "
                   "acknowledged: a later normal run still uploads them).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def run(config_path: Path, test_mode: bool, verbose: bool) -> None:
    """Run the agent: scanners, counter, POS API and counter page, outbox and uplink.

    Logs go to standard error as key=value lines (no line per normal scan). Stops cleanly on
    SIGTERM or Ctrl-C; a committed scan survives any stop, even kill -9 or power loss.

    \b
    Example:
        drugtrace-agent run --config /etc/drugtrace/agent.toml
        drugtrace-agent run --config agent.toml --test
    """
    from agent.app import build_agent
    from agent.errors import AgentError

    _setup_logging(verbose)
    config = _load(config_path)
    try:
        agent = build_agent(config, test_mode=test_mode)
    except AgentError as exc:
        raise click.ClickException(str(exc)) from None
    agent.run_until_signal()


@main.command("status")
@CONFIG_OPTION
def status(config_path: Path) -> None:
    """Show the outbox depth, the last upload and the devices' health (from the last heartbeat).

    Reads the outbox read-only, so it works while the agent runs. Exit status 1 when the outbox
    is nearly full.

    \b
    Example:
        drugtrace-agent status --config /etc/drugtrace/agent.toml
    """
    from agent.errors import AgentError
    from agent.outbox.sqlite import read_status

    config = _load(config_path)
    try:
        stats, heartbeat = read_status(config.outbox_path, config.outbox.capacity, config.outbox.nearly_full_ratio)
    except AgentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"store         {config.store_id} (county {config.county_id})")
    click.echo(f"outbox        {stats.depth} waiting of {stats.capacity}"
               f"{'  NEARLY FULL' if stats.nearly_full else ''}  (next seq {stats.next_seq}, "
               f"acknowledged up to {stats.acked_seq})")
    last = stats.last_upload.astimezone().isoformat(timespec="seconds") if stats.last_upload else "never"
    click.echo(f"last upload   {last}")
    if heartbeat is None:
        click.echo("devices       unknown (no heartbeat yet)")
    else:
        click.echo(f"heartbeat     {heartbeat.at.isoformat(timespec='seconds')} (agent {heartbeat.version})")
        for device in heartbeat.scanners + heartbeat.cameras:
            click.echo(f"device        {device.name}: {device.health.value}, gaps {device.gaps}  {device.detail}")
    if stats.nearly_full:
        sys.exit(1)


@main.command("explain-code")
@click.argument("raw")
@click.option("--gs", "gs_text", default="<GS>", show_default=True,
              help="Text typed in RAW in place of the GS (FNC1) separator; \\x1d also works.")
def explain_code(raw: str, gs_text: str) -> None:
    """Explain what a scanned code is, in Chinese and English.

    RAW is the scanned text; use '-' to read the raw bytes from standard input
    (as a scanner would send them). Exit status 0 for a usable traceability code,
    1 for anything else.

    \b
    Example:
        drugtrace-agent explain-code 81234567890123456789
        drugtrace-agent explain-code ']d201095011015300031726123110A1<GS>21SER1'
        printf '6901234567892\\r\\n' | drugtrace-agent explain-code -
    """
    options = ScanOptions(fnc1=(GS, gs_text, "\\x1d"))
    if raw == "-":
        result = classify_bytes(sys.stdin.buffer.read(), options)
    else:
        result = classify(raw, options)
    width = max(len(label_en) for _, label_en, _ in explain(result))
    for label_zh, label_en, value in explain(result):
        click.echo(f"{label_en.ljust(width)}  {label_zh}：{value}")
    if not result.is_trace_code:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
