"""`drugtrace-collector`: the county collector's command line."""

from __future__ import annotations

import signal
import threading

import click

from drugtrace import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drugtrace-collector")
def main() -> None:
    """DrugTrace collector: the county bureau's ledger of every traceability code.

    \b
    Example:
        drugtrace-collector demo
    """


@main.command()
def demo() -> None:
    """Run the county demo on embedded defaults (stop with Ctrl-C).

    For now this starts the collector skeleton only: it reports what it would run
    and waits. Later versions start the embedded broker, ingest, agents and dashboard.

    \b
    Example:
        drugtrace-collector demo
    """
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"drugtrace-collector {__version__}: collector skeleton running; Ctrl-C to stop.")
    stop.wait()
    click.echo("stopped.")


if __name__ == "__main__":  # pragma: no cover
    main()
