"""`catalog query`: any read-only SQL against the registry, with named parameters."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from catalog.commands import cliutil
from catalog.errors import UsageError

DEFAULT_QUERY_TIMEOUT = 30.0
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_SQLITE_INT_MAX = 2**63 - 1

EPILOG = """\
examples:
  catalog query "SELECT id, vendor, free_since FROM models WHERE is_free ORDER BY free_since DESC"
  catalog query "SELECT * FROM model_versions WHERE context_length >= :n" --param n=131072 --format csv
  catalog query "SELECT kind, count(*) AS n FROM events GROUP BY kind" --format markdown

Parameters are written :name in the SQL. A value that looks like an integer or a decimal
number is bound as a number, anything else as text; wrap it in double quotes to force text
(--param 'v="42"'). The registry is opened read-only: statements that would write are refused.
On PostgreSQL, connect as a reader role (see `catalog db reader-sql ROLE`); other roles are refused.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run read-only SQL against the registry",
        description="Run one read-only SQL statement against the registry and print its rows.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sql", metavar="SQL", help='one SQL statement, or "-" to read it from standard input')
    cliutil.add_format(parser)
    cliutil.add_table_options(parser)
    parser.add_argument(
        "--param",
        action="append",
        type=parse_param,
        default=[],
        metavar="NAME=VALUE",
        help="bind :NAME in the SQL; repeatable",
    )
    parser.add_argument(
        "--timeout",
        type=cliutil.positive_float,
        default=DEFAULT_QUERY_TIMEOUT,
        metavar="SECONDS",
        help="stop the query after this long (default 30)",
    )
    cliutil.add_common(parser)
    parser.set_defaults(func=handle)


def parse_param(text: str) -> tuple[str, Any]:
    """`NAME=VALUE` -> (NAME, int | float | str); see EPILOG for the rule."""
    name, sep, raw = text.partition("=")
    name = name.strip().lstrip(":")
    if not sep or not _NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE (NAME: letters, digits, _)")
    return name, param_value(raw)


def param_value(raw: str) -> Any:
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        return raw[1:-1]
    if _INT.fullmatch(raw) and abs(int(raw)) <= _SQLITE_INT_MAX:
        return int(raw)
    if _FLOAT.fullmatch(raw):
        return float(raw)
    return raw


def handle(args: argparse.Namespace) -> int:
    from catalog.registry.engines import rules_for

    params = _params_dict(args.param)
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    db = cliutil.db_of(args)
    from catalog.display.rowstream import print_batches
    from catalog.display.views import options_from_args

    table = options_from_args(args, None)
    with rules_for(db).query(sql, params, timeout=args.timeout) as (columns, batches):
        print_batches(batches, columns, args.format, table)
    return 0


def _params_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name in params:
            raise UsageError(f"--param {name} is given twice; give each parameter once")
        params[name] = value
    return params
