"""`drugtrace-agent`: the pharmacy agent's command line."""

from __future__ import annotations

import sys

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
    """


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
