"""`catalog export litellm|openrouter` and `catalog pick`: the pools as a gateway config, a request
fragment or one id, read from the registry (never the network). Heavy imports stay inside the
handlers so `catalog --help` is fast."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.commands import cliutil
from catalog.errors import EXIT_OK, CatalogError

if TYPE_CHECKING:
    from catalog.output.pools import Pools


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help="the pools as a gateway config (LiteLLM) or request fragment (OpenRouter)",
        description="Print the pools, as the rules and config choose them from the registry, in a form a "
        "gateway or client reads. Only models free and not measured down appear.",
    )
    kinds = p.add_subparsers(dest="export", metavar="KIND", required=True)
    lite = kinds.add_parser(
        "litellm",
        help="a LiteLLM proxy config (YAML): one model group per pool",
        description="A LiteLLM proxy config: one deployment per pool member under the pool's name, first "
        "choices first (`order`), fallbacks between pools; the key stays in OPENROUTER_API_KEY.",
    )
    add_read_options(lite)
    lite.set_defaults(func=cmd_export_litellm)
    frag = kinds.add_parser(
        "openrouter",
        help='OpenRouter\'s {"models": [...]} request fragment (JSON)',
        description='The {"models": [...]} fragment of an OpenRouter chat request: a pool\'s best free ids '
        "(at most 3), tried in order.",
    )
    add_read_options(frag)
    frag.add_argument("--pool", metavar="NAME", help="this pool (default: the first in the pools' order, SMALL)")
    frag.set_defaults(func=cmd_export_openrouter)

    q = sub.add_parser(
        "pick",
        help="print the best free model id of a pool now",
        description="Print the pool's best free model id (for a shell: MODEL=$(catalog pick CODE)); exit 1 "
        "when the pool is unknown or has no model now.",
    )
    q.add_argument("pool", metavar="POOL", help="the pool (SMALL, LARGE, CODE, VISION or one of catalog.toml's)")
    add_read_options(q)
    q.set_defaults(func=cmd_pick)


def add_read_options(parser: argparse.ArgumentParser) -> None:
    cliutil.add_common(parser)
    parser.add_argument("--config", metavar="PATH", type=Path, help="pool rules (default ./catalog.toml if present)")
    parser.add_argument(
        "--at",
        type=cliutil.parse_time_arg,
        metavar="ISO8601",
        help="the pools after the last sync at or before this time",
    )


def read_pools(args: argparse.Namespace) -> Pools:
    from catalog.config.loader import load_config
    from catalog.output.pools import build_pools
    from catalog.registry.db import query_connection
    from catalog.registry.reads import load_snapshot

    config = load_config(args.config)
    at: datetime | None = args.at
    with query_connection(cliutil.db_of(args)) as conn:
        snapshot = load_snapshot(conn, at)
    if snapshot.observed_at is None:
        if at is not None:
            raise CatalogError(f"the registry has no successful sync at or before {at:%Y-%m-%dT%H:%M:%SZ}")
        raise CatalogError("the registry has no successful sync yet; run `catalog sync` first")
    return build_pools(snapshot, config)


def cmd_export_litellm(args: argparse.Namespace) -> int:
    from catalog.output.exports import litellm_yaml

    sys.stdout.write(litellm_yaml(read_pools(args)))
    return EXIT_OK


def cmd_export_openrouter(args: argparse.Namespace) -> int:
    from catalog.output.exports import openrouter_json

    pools = read_pools(args)
    if args.pool is not None:
        pools.config.select([args.pool])
    sys.stdout.write(openrouter_json(pools, args.pool))
    return EXIT_OK


def cmd_pick(args: argparse.Namespace) -> int:
    from catalog.output.exports import pick, pool_ids

    pools = read_pools(args)
    pools.config.select([args.pool], option="pick")  # unknown or switched off: one line naming the pools
    best = pick(pools, args.pool)
    if best is None:
        filled = [name for name in pools.pools if pool_ids(pools, name)]
        others = f"pools with a model now: {', '.join(filled)}" if filled else "no pool has a model now"
        raise CatalogError(f"pool {args.pool} has no free model that is up right now; {others}")
    print(best)
    return EXIT_OK
