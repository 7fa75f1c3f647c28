"""Commands for measured availability: health (query, or --refresh to take a sample) and probe."""

from __future__ import annotations

import argparse
import sys

from catalog.availability.health import MEASURED
from catalog.commands import cliutil
from catalog.errors import EXIT_FAILED, EXIT_OK, UsageError
from catalog.settings import DEFAULT_HEALTH_TIMEOUT, DEFAULT_PROBE_TIMEOUT

HEALTH_COLUMNS = ("model_id", *MEASURED, "availability_7d", "sampled_at", "last_probe", "account")
SAMPLE_COLUMNS = ("sampled_at", "model_id", *MEASURED, "error")
PROBE_COLUMNS = ("model_id", "outcome", "http_status", "ttft_ms", "total_ms", "at", "detail")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("health", help="measured health of the free models (--refresh takes a new sample)")
    cliutil.add_common(p)
    p.add_argument("model_id", nargs="?", metavar="MODEL_ID", help="one model's samples, oldest first")
    p.add_argument(
        "--since", type=cliutil.parse_time_arg, metavar="ISO8601", help="with MODEL_ID: samples at or after this time"
    )
    cliutil.add_format(p)
    cliutil.add_table_options(p)
    p.add_argument("--refresh", action="store_true", help="take one health sample now, without a catalog sync")
    p.add_argument("--api-url", metavar="URL", help="models endpoint (env CATALOG_API_URL); /endpoints hang off it")
    p.add_argument(
        "--timeout",
        dest="health_timeout",
        type=cliutil.positive_float,
        default=DEFAULT_HEALTH_TIMEOUT,
        metavar="SECONDS",
        help="with --refresh: one deadline over all health calls (default 30)",
    )
    cliutil.add_health(p, after_sync=False)
    cliutil.add_render(p)
    cliutil.add_lock_wait(p)
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("probe", help="send one small real chat call to each target and record the outcome")
    cliutil.add_common(p)
    p.add_argument(
        "--model", action="append", metavar="ID", help="probe this model (repeatable; default: the pools' fallbacks)"
    )
    p.add_argument("--pool", action="append", metavar="NAME", help="probe this pool's fallbacks (repeatable)")
    cliutil.add_probe_budget(p)
    p.add_argument(
        "--timeout",
        dest="probe_timeout",
        type=cliutil.positive_float,
        default=DEFAULT_PROBE_TIMEOUT,
        metavar="SECONDS",
        help="bound on each probe (default 30)",
    )
    p.add_argument(
        "--api-url", metavar="URL", help="models endpoint (env CATALOG_API_URL); chat and /key hang off its base"
    )
    cliutil.add_render(p)
    cliutil.add_format(p)
    cliutil.add_table_options(p)
    p.set_defaults(func=cmd_probe)


def cmd_health(args: argparse.Namespace) -> int:
    if args.refresh:
        if args.model_id or args.since:
            raise UsageError("--refresh samples every free model; it takes no MODEL_ID or --since")
        return refresh(args)
    if args.since and not args.model_id:
        raise UsageError("--since goes with MODEL_ID (one model's samples)")
    from catalog.registry import queries
    from catalog.registry.db import query_connection

    with query_connection(cliutil.db_of(args)) as conn:
        if args.model_id:
            rows = queries.health_samples(conn, args.model_id, args.since)
            return cliutil.emit(rows, SAMPLE_COLUMNS, args, "health MODEL_ID")
        return cliutil.emit(queries.health_now(conn), HEALTH_COLUMNS, args, "health")


def refresh(args: argparse.Namespace) -> int:
    from catalog.display.progress import progress
    from catalog.jobs.health import free_model_count, refresh_health

    settings = cliutil.settings_from_args(args)
    with progress("health", total=free_model_count(settings.db), unit="models") as tick:
        result = refresh_health(settings, on_sample=tick)
    print(f"{result.summary()} ({result.seconds:.1f} s)")
    if result.render_error:
        print(f"catalog: error: {result.render_error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_probe(args: argparse.Namespace) -> int:
    from catalog.jobs.probe import probe

    if args.model and args.pool:
        raise UsageError("give --model IDs or --pool NAMEs, not both")
    from catalog.display.progress import progress

    settings = cliutil.settings_from_args(args)
    with progress("probing", unit="probes") as tick:
        run = probe(settings, on_probe=tick)
    rows = [
        {
            "model_id": r.model_id,
            "outcome": r.outcome,
            "http_status": r.http_status,
            "ttft_ms": r.ttft_ms,
            "total_ms": r.total_ms,
            "at": r.at,
            "detail": r.detail,
        }
        for r in run.results
    ]
    cliutil.emit(rows, PROBE_COLUMNS, args, "probe")
    sys.stdout.flush()
    print(f"catalog: {run.summary()}", file=sys.stderr)
    if run.render_error:
        print(f"catalog: error: {run.render_error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
