"""The one loader of `catalog.toml`: read the file, parse TOML, check every table."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from catalog.config.checks import check_keys, strings, table, whole
from catalog.config.exports import parse_exports
from catalog.config.pools import (
    MAX_CAP,
    POOL_NAME,
    POOL_NAMES,
    PoolConfig,
    check_custom,
    parse_pool,
    parse_rules,
    pool_order,
)
from catalog.config.watch import parse_watch
from catalog.errors import CatalogError
from catalog.settings import DEFAULT_CONFIG


def load_config(path: Path | None) -> PoolConfig:
    """An explicit path must exist; None means ./catalog.toml when present, else the defaults."""
    if path is None:
        default = Path(DEFAULT_CONFIG)
        if not default.is_file():
            return PoolConfig()
        path = default
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CatalogError(f"config file {path} not found; create it or drop --config") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CatalogError(f"cannot read config file {path}: {reason}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path} is not valid TOML: {exc}") from None
    except ValueError:  # tomllib refuses an integer of more than 4300 digits (sys.int_info)
        raise CatalogError(f"{path} is not valid TOML: a number has too many digits") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise CatalogError(f"{path} is not valid TOML: arrays or tables nested too deeply") from None
    return parse_config(doc, source=Path(path))


def parse_config(doc: dict[str, Any], *, source: Path | None = None) -> PoolConfig:
    where = str(source) if source else "config"
    check_keys(doc, {"pools", "rules", "feed", "charts", "notify", "exports"}, "", where)
    pools_doc = table(doc.get("pools", {}), "pools", where)
    rules_doc = table(doc.get("rules", {}), "rules", where)
    settings = {"cap", "exclude", "order"}
    for key in pools_doc:
        if key not in settings and not POOL_NAME.fullmatch(key):
            raise CatalogError(
                f"{where}: unknown key `pools.{key}` (known: cap, exclude, order, and pools named "
                f"in upper case: [A-Z][A-Z0-9_]*)"
            )
    config = PoolConfig(source=source)
    if "cap" in pools_doc:
        config = replace(config, cap=whole(pools_doc["cap"], "pools.cap", where, 1, MAX_CAP))
    if "exclude" in pools_doc:
        config = replace(config, exclude=strings(pools_doc["exclude"], "pools.exclude", where))
    names = [*POOL_NAMES, *(k for k in pools_doc if k not in settings and k not in POOL_NAMES)]
    per_pool = {name: parse_pool(pools_doc.get(name, {}), f"pools.{name}", where) for name in names}
    for name in names[len(POOL_NAMES) :]:
        check_custom(name, per_pool[name], where)
    config = replace(config, pools=per_pool, rules=parse_rules(rules_doc, where), watch=parse_watch(doc, where))
    if "order" in pools_doc:
        config = replace(config, order=pool_order(pools_doc["order"], per_pool, where))
    if not config.names:
        raise CatalogError(f"{where}: every pool is switched off (`enabled = false`); keep at least one")
    return replace(config, exports=parse_exports(doc, config.names, where))
