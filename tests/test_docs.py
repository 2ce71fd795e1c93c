"""Docs are kept true by tests: the README's commands, the event tables, every command documented."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from agent.cli import main as agent_main
from collector.cli import main as collector_main
from drugtrace.schema_doc import render_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["bash scripts/dev.sh demo", "bash scripts/dev.sh test"]
    ci = [line for line in (ROOT / ".ci/run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == ["bash scripts/dev.sh test"]


def test_event_tables_match_the_schema() -> None:
    assert render_markdown() in (ROOT / "docs/events.md").read_text()


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = [(prefix, group)]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command))
    return found


ALL_COMMANDS = _commands(agent_main, "drugtrace-agent") + _commands(collector_main, "drugtrace-collector")


@pytest.mark.parametrize(("name", "command"), ALL_COMMANDS, ids=[name for name, _ in ALL_COMMANDS])
def test_every_command_has_an_example_and_is_in_the_reference(name: str, command: click.Command) -> None:
    assert "Example:" in (command.help or ""), f"{name} --help has no Example: block"
    assert f"`{name}`" in (ROOT / "docs/reference.md").read_text(), f"{name} is missing from docs/reference.md"
