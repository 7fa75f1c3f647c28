"""`catalog check [PATH...]`: which model ids a project names are gone, no longer free, expiring,
down or unknown, with a replacement for each, and `--fix` to rewrite them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catalog.commands import cliutil
from catalog.errors import EXIT_FAILED, EXIT_OK, UsageError

# The job's names, written here so that `--help` needs no import of it (a test checks they agree).
VERDICTS = ("ok", "down", "expiring", "gone", "not_free", "unknown")
DEFAULT_FAIL_ON = "gone,not_free,unknown"
DEFAULT_EXPIRING_DAYS = 14
FORMATS = ("text", "json", "github")

EPILOG = """\
verdicts:
  ok        free now and not measured down
  down      free, but measured down by the newest health sample
  expiring  free, with an expiration date within --expiring-days
  gone      was free, no longer listed by OpenRouter
  not_free  still listed, no longer free
  unknown   a vendor/model:free id the registry has never seen free

examples:
  catalog check                          # the current folder (what git does not ignore)
  catalog check src/ --format github     # annotations in a GitHub Actions log
  catalog check --fix --dry-run          # the diff that --fix would apply
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="find the model ids a project uses that are gone, paid, expiring, down or unknown",
        description="Scan text files for OpenRouter model ids and judge each against the registry.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to scan (default: .)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="findings as text, json or github")
    parser.add_argument(
        "--fail-on",
        type=verdict_list,
        default=DEFAULT_FAIL_ON,
        metavar="V,V",
        help=f"exit 1 when a finding has one of these verdicts (default {DEFAULT_FAIL_ON}; 'none' never)",
    )
    parser.add_argument(
        "--expiring-days",
        type=cliutil.whole_number,
        default=DEFAULT_EXPIRING_DAYS,
        metavar="N",
        help="an expiration date within N days of now is 'expiring' (default 14)",
    )
    parser.add_argument(
        "--fix", action="store_true", help="rewrite gone and not_free ids to their replacement; print the diff"
    )
    parser.add_argument("--fix-expiring", action="store_true", help="with --fix, rewrite expiring ids too")
    parser.add_argument("--dry-run", action="store_true", help="with --fix, print the diff and change nothing")
    parser.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR set, or not a terminal)")
    parser.add_argument(
        "--config", metavar="PATH", type=Path, help="pool rules for replacements (default ./catalog.toml if present)"
    )
    cliutil.add_common(parser)
    parser.set_defaults(func=handle)


def verdict_list(text: str) -> frozenset[str]:
    names = {name.strip() for name in text.split(",") if name.strip()}
    if names == {"none"}:
        return frozenset()
    unknown = sorted(names - set(VERDICTS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown verdict {', '.join(unknown)} (choose from {', '.join(VERDICTS)})")
    return frozenset(names)


def handle(args: argparse.Namespace) -> int:
    from catalog.config.loader import load_config
    from catalog.display.findings import summary, write_findings
    from catalog.display.term import color_wanted
    from catalog.jobs import check as job
    from catalog.registry.db import query_connection
    from catalog.times import now_utc

    if (args.fix_expiring or args.dry_run) and not args.fix:
        raise UsageError("--fix-expiring and --dry-run go with --fix")
    paths = [Path(p) for p in args.paths or ["."]]
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
    fix = (*job.FIXABLE, "expiring") if args.fix_expiring else job.FIXABLE if args.fix else ()
    config = load_config(args.config)
    with query_connection(cliutil.db_of(args)) as conn:
        view = job.RegistryView(conn, config)
        result = job.check(paths, view, now=now_utc(), expiring_days=args.expiring_days, fix=fix)
    if args.fix:
        for file_fix in result.fixes:
            sys.stdout.write(file_fix.diff())
        if not args.dry_run:
            job.write_fixes(result.fixes)
        remaining = job.unfixed(result) if not args.dry_run else result.findings
        fixed = sum(len(f.fixed) for f in result.fixes)
        done = "would rewrite" if args.dry_run else "rewrote"
        files = f"{len(result.fixes)} file" + ("" if len(result.fixes) == 1 else "s")
        print(f"catalog: {done} {fixed} id{'' if fixed == 1 else 's'} in {files}", file=sys.stderr)
    else:
        remaining = result.findings
        color = args.format == "text" and color_wanted(sys.stdout, args.no_color)
        write_findings(result.findings, sys.stdout, args.format, color=color)
    if args.format == "text" or args.fix:
        print(f"catalog: {summary(remaining, result.files)}", file=sys.stderr)
    return EXIT_FAILED if any(f.verdict in args.fail_on for f in remaining) else EXIT_OK
