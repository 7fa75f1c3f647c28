"""`catalog` command line: a thin shell over the library. Each command module registers its
subcommands; handlers parse nothing themselves and return an exit status."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

import catalog
from catalog.commands.cliutil import run_handler, setup_logging

# Modules holding subcommands, in the order `catalog --help` lists them.
COMMAND_MODULES = (
    "catalog.commands.cli_registry",  # sync, import, db, models, changes, history
    "catalog.commands.cli_render",  # render, pools
    "catalog.commands.cli_export",  # export litellm, export openrouter, pick
    "catalog.commands.cli_query",  # query
    "catalog.commands.cli_health",  # health, probe
    "catalog.commands.cli_schedule",  # schedule, deploy, status
    "catalog.commands.cli_notify",  # notify
    "catalog.commands.cli_check",  # check
)


class VersionAction(argparse.Action):
    """`--version`, read from the installed package only when asked: importlib.metadata costs
    tens of milliseconds that no other command should pay at start-up."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show program's version number and exit"
        )

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any) -> None:
        print(f"catalog {catalog.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="catalog",
        description="An always-current registry of OpenRouter's free models.",
    )
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(getattr(args, "verbose", False), getattr(args, "log_format", "text"))
    return run_handler(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
