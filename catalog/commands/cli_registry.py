"""Commands over the registry: sync, import, db upgrade, models, changes, history."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.commands import cliutil
from catalog.durations import duration_arg
from catalog.errors import EXIT_FAILED, EXIT_OK, UsageError
from catalog.events import EVENT_KINDS

if TYPE_CHECKING:
    from catalog.ingest.diff import Change


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sync", help="fetch the catalog, record what changed, rebuild the generated files")
    cliutil.add_common(p)
    cliutil.add_source(p)
    p.add_argument(
        "--observed-at",
        type=cliutil.parse_time_arg,
        metavar="ISO8601",
        help="record the sync as of this time (backfills); not earlier than the newest run",
    )
    cliutil.add_render(p)
    p.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    p.add_argument(
        "--allow-mass-removal",
        action="store_true",
        help="accept an answer that removes more than half of the free models",
    )
    cliutil.add_lock_wait(p)
    cliutil.add_measurement(p)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("import", help="backfill history from saved answers or a git-scraped file")
    cliutil.add_common(p)
    p.add_argument(
        "files", nargs="*", type=Path, metavar="FILE", help="saved answers, observed at their modification times"
    )
    p.add_argument("--git", type=Path, metavar="REPO", help="a git repository holding a scraped answer")
    p.add_argument("--path", metavar="PATH", help="the answer's path inside --git REPO")
    cliutil.add_render(p)
    p.add_argument("--allow-mass-removal", action="store_true", help="accept answers that remove most free models")
    cliutil.add_lock_wait(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("db", help="registry maintenance")
    db_sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="create the registry or bring its schema up to date")
    cliutil.add_common(up)
    up.set_defaults(func=cmd_db_upgrade)
    rd = db_sub.add_parser("reader-sql", help="print the SQL that creates a read-only PostgreSQL role for queries")
    rd.add_argument("role", metavar="ROLE", help="the reader role to create")
    rd.add_argument("--schema", default="public", metavar="NAME", help="the registry's schema (default public)")
    cliutil.add_common(rd)
    rd.set_defaults(func=cmd_db_reader_sql)

    p = sub.add_parser("models", help="free models now, or at a past time")
    cliutil.add_common(p)
    p.add_argument(
        "--at", type=cliutil.parse_time_arg, metavar="ISO8601", help="state after the last sync at or before this time"
    )
    p.add_argument("--all", action="store_true", help="include models that are no longer free, with when they left")
    p.add_argument("--vendor", metavar="V", help="only this vendor (the id's author part)")
    p.add_argument("--min-context", type=int, metavar="N", help="only models with at least N tokens of context")
    p.add_argument("--modality", metavar="M", help="only models taking or producing M (image, audio, file, ...)")
    p.add_argument("--sort", choices=("id", "context", "first-seen"), default="id", help="order (default id)")
    cliutil.add_format(p)
    cliutil.add_table_options(p)
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("changes", help="change events, newest first")
    cliutil.add_common(p)
    when = p.add_mutually_exclusive_group()
    when.add_argument(
        "--since", type=cliutil.parse_time_arg, metavar="ISO8601", help="events observed at or after this time"
    )
    when.add_argument(
        "--last", type=duration_arg, metavar="DURATION", help="events of the last DURATION (e.g. 7d, 12h)"
    )
    p.add_argument("--kind", choices=EVENT_KINDS, action="append", help="only this kind (repeatable)")
    p.add_argument("--model", metavar="ID", help="only this model")
    p.add_argument("--field", metavar="NAME", help="only changes of this field (e.g. context_length)")
    cliutil.add_format(p)
    cliutil.add_table_options(p)
    p.set_defaults(func=cmd_changes)

    p = sub.add_parser("history", help="one model's timeline")
    cliutil.add_common(p)
    p.add_argument("model_id", metavar="MODEL_ID")
    cliutil.add_format(p)
    cliutil.add_table_options(p)
    p.set_defaults(func=cmd_history)


# ---------------------------------------------------------------- writers


def cmd_sync(args: argparse.Namespace) -> int:
    from catalog.jobs.sync import run_once

    result = run_once(cliutil.settings_from_args(args))
    if result.dry_run:
        from catalog.display.visible import visible

        for change in result.changes:
            print(visible(describe_change(change)))
    print(result.summary())
    return report_render_error(result.render_error)


def describe_change(change: Change) -> str:
    if change.kind == "removed":
        return f"- removed  {change.model_id} ({change.reason})"
    if change.kind == "changed":
        return f"~ changed  {change.model_id} {change.field}: {json.dumps(change.old)} -> {json.dumps(change.new)}"
    return f"+ {change.kind:<8} {change.model_id}"


def report_render_error(error: str | None) -> int:
    if error is None:
        return EXIT_OK
    print(f"catalog: error: {error}", file=sys.stderr)
    return EXIT_FAILED


def cmd_import(args: argparse.Namespace) -> int:
    from catalog.display.progress import progress
    from catalog.ingest import answers as sources

    if bool(args.files) == bool(args.git):
        raise UsageError("give either FILE... or --git REPO --path PATH")
    if args.git and not args.path:
        raise UsageError("--git needs --path PATH (the answer's path inside the repository)")
    if args.path and not args.git:
        raise UsageError("--path goes with --git REPO")
    answers = sources.answers_from_git(args.git, args.path) if args.git else sources.answers_from_files(args.files)
    answers = sources.parsed_ahead(answers)  # started before the importer's imports, to overlap them
    from catalog.jobs import importer

    with progress("importing", total=len(answers), unit="commits" if args.git else "files") as tick:
        result = importer.import_answers(cliutil.settings_from_args(args), answers, on_answer=tick)
    print(result.summary())
    if result.failed:
        print(
            f"catalog: error: {result.failed} answers failed to import (see the warnings above); "
            "they are recorded as failed runs",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return report_render_error(result.render_error)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from catalog.registry.db import upgrade_registry

    db = cliutil.db_of(args)
    before, after = upgrade_registry(db)
    if before == after:
        print(f"{db}: schema already at revision {after}")
    else:
        print(f"{db}: schema upgraded from {before or 'nothing'} to revision {after}")
    return EXIT_OK


def cmd_db_reader_sql(args: argparse.Namespace) -> int:
    from catalog.registry.engines import rules_for
    from catalog.registry.pgquery import reader_sql

    db = cliutil.db_of(args)
    if rules_for(db).name != "PostgreSQL":
        raise UsageError(
            "reader roles are for PostgreSQL registries; pass --db postgresql+psycopg://USER@HOST/DATABASE"
        )
    print(reader_sql(db, args.role, args.schema), end="")
    return EXIT_OK


# ---------------------------------------------------------------- readers


def cmd_models(args: argparse.Namespace) -> int:
    from catalog.registry import queries
    from catalog.registry.db import query_connection

    if args.all and args.at:
        raise UsageError("--all lists every model ever free; it cannot be combined with --at")
    with query_connection(cliutil.db_of(args)) as conn:
        rows = queries.all_models(conn) if args.all else queries.free_models(conn, args.at)
    rows = queries.filter_models(
        rows, vendor=args.vendor, min_context=args.min_context, modality=args.modality, sort=args.sort
    )
    if args.all:
        return cliutil.emit(rows, queries.ALL_MODEL_COLUMNS, args, "models --all")
    return cliutil.emit(rows, queries.MODEL_COLUMNS, args, "models")


def cmd_changes(args: argparse.Namespace) -> int:
    from catalog.registry import queries
    from catalog.registry.db import query_connection

    since = args.since
    if args.last:
        from catalog.times import now_utc

        since = now_utc() - args.last
    with query_connection(cliutil.db_of(args)) as conn:
        rows = queries.changes(conn, since=since, kinds=args.kind, model_id=args.model, field=args.field)
    return cliutil.emit(rows, queries.EVENT_COLUMNS, args, "changes")


def cmd_history(args: argparse.Namespace) -> int:
    from catalog.registry import queries
    from catalog.registry.db import query_connection

    with query_connection(cliutil.db_of(args)) as conn:
        rows = queries.history(conn, args.model_id)
    return cliutil.emit(rows, queries.EVENT_COLUMNS, args, "history")
