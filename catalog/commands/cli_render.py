"""`catalog render` and `catalog pools`: the generated files and the pools, from the registry
alone (never the network). Heavy imports stay inside the handlers so `catalog --help` is fast."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, overload

from catalog.commands import cliutil
from catalog.errors import EXIT_OK, CatalogError, UsageError

if TYPE_CHECKING:
    from catalog.display.views import TableOptions
    from catalog.output.pools import Pools
    from catalog.registry.history import History
    from catalog.state import Snapshot


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "render",
        help="rebuild the generated files from the registry (no network)",
        description="Rebuild free-models.md, free-model-pool.ts, free-model-pool.json, free-models.atom, "
        "free-models.json (with its schema) and the two SVG charts from the registry's last sync. Unchanged files are left alone; changed ones are replaced atomically.",
    )
    cliutil.add_common(p)
    cliutil.add_render(p, with_no_render=False)
    p.set_defaults(func=cmd_render)

    q = sub.add_parser(
        "pools",
        help="show the model pools (and why, with --explain)",
        description="The pools (SMALL, LARGE, CODE, VISION and those catalog.toml defines) as the "
        "rules and config choose them from the registry's last sync.",
    )
    cliutil.add_common(q)
    q.add_argument("--config", metavar="PATH", type=Path, help="pool rules (default ./catalog.toml if present)")
    q.add_argument(
        "--format",
        choices=["table", "json"],
        default=None,
        help="output format (default: table on a terminal, json otherwise)",
    )
    q.add_argument(
        "--explain", action="store_true", help="why each model is where it is, and why the others were left out"
    )
    q.add_argument(
        "--pool", metavar="NAME", action="append", help="show only this pool (repeatable; default: every enabled pool)"
    )
    cliutil.add_table_options(q)
    q.set_defaults(func=cmd_pools)


@overload
def read_snapshot(args: argparse.Namespace, with_history: Literal[False] = False) -> Snapshot: ...
@overload
def read_snapshot(args: argparse.Namespace, with_history: Literal[True]) -> tuple[Snapshot, History | None]: ...
def read_snapshot(args: argparse.Namespace, with_history: bool = False) -> Snapshot | tuple[Snapshot, History | None]:
    from catalog.registry.db import query_connection
    from catalog.registry.history import load_history
    from catalog.registry.reads import load_snapshot

    with query_connection(cliutil.db_of(args)) as conn:
        snapshot = load_snapshot(conn)
        history = load_history(conn, snapshot.observed_at) if with_history and snapshot.observed_at else None
    if snapshot.observed_at is None:
        raise CatalogError("the registry has no successful sync yet; run `catalog sync` first")
    return (snapshot, history) if with_history else snapshot


def cmd_render(args: argparse.Namespace) -> int:
    from catalog.output.departures import read_departures
    from catalog.output.render import generate
    from catalog.output.watchfiles import Watched
    from catalog.registry.db import query_connection

    snapshot, history = read_snapshot(args, with_history=True)
    with query_connection(cliutil.db_of(args)) as conn:
        gone = read_departures(conn, history, args.config)
    report = generate(
        snapshot,
        out_dir=args.out,
        lang=args.lang,
        templates_dir=args.templates,
        config_path=args.config,
        watch=Watched(history, args.feed_url, not args.no_charts, gone),
    )
    total = len(report.written) + len(report.unchanged)
    print(f"rendered {total} files to {args.out}/ ({len(report.written)} written, {len(report.unchanged)} unchanged)")
    return EXIT_OK


def cmd_pools(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from catalog.config.loader import load_config
    from catalog.display.formats import default_format
    from catalog.display.views import options_from_args
    from catalog.output.pools import build_pools

    table = options_from_args(args, "pools")
    fmt = args.format or ("table" if table.shaped else default_format(sys.stdout))
    if table.shaped and (fmt == "json" or args.explain):
        raise UsageError("--wide and --columns shape the pools table; not --format json or --explain")
    config = load_config(args.config)
    shown = config.select(args.pool)
    snapshot = read_snapshot(args)
    pools = build_pools(snapshot, config)
    pools = replace(pools, pools={n: pools.pools[n] for n in shown}, explanations=pools.explanations.only(shown))
    free = len(snapshot.models)
    if fmt == "json":
        write_json(pools, args.explain, free, sys.stdout)
    elif args.explain:
        from catalog.display.wrap import wrapped

        write_explain(pools, free, wrapped(sys.stdout))
    else:
        write_table(pools, free, table, sys.stdout)
    sys.stdout.flush()
    return EXIT_OK


# ---------------------------------------------------------------- output


def pool_rows(pools: Pools, free: int) -> list[dict[str, Any]]:
    from catalog.output.filters import tokens
    from catalog.output.selectors import empty_reason

    rows: list[dict[str, Any]] = []
    for name, entries in pools.pools.items():
        if not entries:  # an empty pool still shows, with why
            why = empty_reason(pools.explanations[name], free)
            rows.append({"pool": name, "rank": None, "model": None, "score": None, "context": None, "why": why})
        for rank, e in enumerate(entries, 1):
            record = e.model.record
            rows.append(
                {
                    "pool": name,
                    "rank": rank,
                    "model": e.id,
                    "score": e.score,
                    "context": tokens(record.context_length or record.top_context_length),
                    "why": e.why,
                }
            )
    return rows


def write_table(pools: Pools, free: int, table: TableOptions, out: TextIO) -> None:
    from catalog.display.termtable import print_table

    print_table(pool_rows(pools, free), ["pool", "rank", "model", "score", "context", "why"], table, out)


def write_explain(pools: Pools, free: int, out: TextIO) -> None:
    """Per pool: the chosen models with their score broken down, then the cut and the left out."""
    from catalog.output.filters import clean
    from catalog.output.selectors import empty_reason

    for name, decisions in pools.explanations.items():
        entries = {e.id: e for e in pools.pools[name]}
        counts = {
            status: sum(d.status == status for d in decisions) for status in ("chosen", "cut", "left out", "missing")
        }
        out.write(
            f"{name}: {counts['chosen']} chosen (cap {pools.config.cap_of(name)}), "
            f"{counts['cut']} below the cap, {counts['left out'] + counts['missing']} left out\n"
        )
        if reason := empty_reason(decisions, free):
            out.write(f"  empty: {reason}\n")
        for d in decisions:
            label = f"{d.rank:>3}." if d.rank is not None else "   -"
            score = f"  score {d.score:.2f}" if d.score is not None else ""
            out.write(f"  {label} {d.status:<8} {clean(d.model_id)}{score}\n")
            out.write(f"         {clean(d.reason)}\n")
            if d.model_id in entries and d.status == "chosen":
                parts = [
                    f"{s.name} {s.points:+.2f} ({clean(s.detail)})" for s in entries[d.model_id].signals if s.points
                ]
                out.write(f"         score = {' '.join(parts) or '0'}\n")
        out.write("\n")


def write_json(pools: Pools, explain: bool, free: int, out: TextIO) -> None:
    from catalog.output.selectors import empty_reason

    doc: dict[str, Any] = {
        "config": str(pools.config.source) if pools.config.source else None,
        "pools": {
            name: [
                {
                    "rank": rank,
                    "id": e.id,
                    "score": e.score,
                    "why": e.why,
                    "pinned": e.pinned,
                    "filler": e.filler,
                    "signals": [{"name": s.name, "points": s.points, "detail": s.detail} for s in e.signals],
                }
                for rank, e in enumerate(entries, 1)
            ]
            for name, entries in pools.pools.items()
        },
    }
    empty = {name: empty_reason(pools.explanations[name], free) for name, entries in pools.pools.items() if not entries}
    if empty:
        doc["empty"] = empty  # why each empty pool is empty
    if explain:
        doc["explain"] = {
            name: [
                {"id": d.model_id, "status": d.status, "rank": d.rank, "score": d.score, "reason": d.reason}
                for d in decisions
            ]
            for name, decisions in pools.explanations.items()
        }
    out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
