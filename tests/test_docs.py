"""The README documents every command and option, and its quickstart matches CI."""

import argparse
import re
from pathlib import Path

from catalog.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def commands(parser: argparse.ArgumentParser, prefix=("catalog",)):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,), sub
                yield from commands(sub, prefix + (name,))


def test_every_command_and_option_is_in_the_readme():
    missing = []
    for path, parser in commands(build_parser()):
        if " ".join(path) not in README and f"`{path[-1]}`" not in README:
            missing.append(" ".join(path))
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and option not in README:
                    missing.append(f"{' '.join(path)} {option}")
    assert missing == []


def test_quickstart_has_two_commands_and_ci_runs_the_test_one():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quickstart, re.S)
    assert len(blocks) == 2 and all(len(b.strip().splitlines()) == 1 for b in blocks)
    assert "catalog sync" in blocks[0]
    assert blocks[1].strip() in (REPO / ".ci" / "run").read_text()
