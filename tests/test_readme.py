"""The README stays true: its two set-up commands exist, CI runs the test one, and every
CLI command is documented."""

from __future__ import annotations

import re

import click

from search.cli import main
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: list[str]):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + [name])
        else:
            yield " ".join(prefix + [name])


def test_every_cli_command_is_in_the_readme() -> None:
    for path in _commands(main, []):
        assert f"papersearch {path}" in README, path


def test_the_two_setup_commands_are_make_targets_and_ci_runs_the_test_one() -> None:
    setup = README.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", setup, flags=re.M)
    assert commands == ["make run", "make test"]
    makefile = (REPO / "Makefile").read_text()
    for cmd in commands:
        assert re.search(rf"^{cmd.split()[1]}:", makefile, flags=re.M), cmd
    assert "torch==2.13.0" in makefile  # the CPU build, installed before anything else
    assert "make test" in (REPO / ".ci" / "run").read_text()
