"""Pool rules from `catalog.toml`: defaults, loading and strict validation.

Every mistake in the file (unknown key, wrong type) is one CatalogError line naming the key, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from catalog.errors import CatalogError
from catalog.settings import DEFAULT_CONFIG

POOL_NAMES = ("SMALL", "LARGE", "CODE", "VISION")
DEFAULT_CAP = 5


@dataclass(frozen=True)
class PoolRules:
    """What the config says about one pool."""

    pin: tuple[str, ...] = ()  # exact ids put first, in this order, when free now
    exclude: tuple[str, ...] = ()  # id globs never in this pool
    cap: int | None = None  # None: the file-wide cap


@dataclass(frozen=True)
class Rules:
    """How models are classified; see the README for what each one means."""

    small_max_b: float = 32.0  # SMALL: active (MoE) or total parameters, in billions, at most this
    large_min_b: float = 70.0  # LARGE: total parameters, in billions, at least this
    large_min_context: int = 100_000  # size unknown: reasoning + this much context -> LARGE
    small_words: tuple[str, ...] = ("mini", "nano", "flash", "lite", "small", "tiny", "micro", "xs")
    large_words: tuple[str, ...] = ("large", "ultra", "pro", "max")
    code_patterns: tuple[str, ...] = ("coder", "codestral", "devstral", "codex", "codegemma", "codellama")
    code_only: bool = True  # a coding model stays out of SMALL and LARGE
    code_fill: int = 3  # fill CODE with the best LARGE models up to this many entries
    routers: tuple[str, ...] = ("openrouter/*", "~*")  # id globs of routers and moving aliases
    skip_words: tuple[str, ...] = ("guard", "safety", "moderation", "embedding", "embed", "rerank")
    # Measured health (README "Measured availability"); unmeasured health neither helps nor hurts.
    degraded_points: float = 3.0  # taken off while the latest sample is degraded
    availability_min: float = 0.95  # our 7-day availability at least this ...
    availability_points: float = 2.0  # ... earns this much
    fast_latency_ms: float = 2000.0  # SMALL: a measured p50 latency at most this ...
    fast_latency_points: float = 2.0  # ... earns this much
    probe_hours: int = 24  # a probe that found a model unusable keeps it out of the pools this long


@dataclass(frozen=True)
class PoolConfig:
    cap: int = DEFAULT_CAP
    exclude: tuple[str, ...] = ()  # id globs left out of every pool
    pools: dict[str, PoolRules] = field(default_factory=lambda: {name: PoolRules() for name in POOL_NAMES})
    rules: Rules = field(default_factory=Rules)
    source: Path | None = None  # the file it came from; None for the defaults

    def pool(self, name: str) -> PoolRules:
        return self.pools.get(name, PoolRules())

    def cap_of(self, name: str) -> int:
        own = self.pool(name).cap
        return self.cap if own is None else own


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
    return parse_config(doc, source=Path(path))


def parse_config(doc: dict[str, Any], *, source: Path | None = None) -> PoolConfig:
    where = str(source) if source else "config"
    check_keys(doc, {"pools", "rules"}, "", where)
    pools_doc = table(doc.get("pools", {}), "pools", where)
    rules_doc = table(doc.get("rules", {}), "rules", where)
    check_keys(pools_doc, {"cap", "exclude", *POOL_NAMES}, "pools.", where)
    config = PoolConfig(source=source)
    if "cap" in pools_doc:
        config = replace(config, cap=count(pools_doc["cap"], "pools.cap", where))
    if "exclude" in pools_doc:
        config = replace(config, exclude=strings(pools_doc["exclude"], "pools.exclude", where))
    per_pool = {name: parse_pool(pools_doc.get(name, {}), f"pools.{name}", where) for name in POOL_NAMES}
    return replace(config, pools=per_pool, rules=parse_rules(rules_doc, where))


def parse_pool(raw: Any, key: str, where: str) -> PoolRules:
    doc = table(raw, key, where)
    check_keys(doc, {"pin", "exclude", "cap"}, f"{key}.", where)
    return PoolRules(
        pin=strings(doc["pin"], f"{key}.pin", where) if "pin" in doc else (),
        exclude=strings(doc["exclude"], f"{key}.exclude", where) if "exclude" in doc else (),
        cap=count(doc["cap"], f"{key}.cap", where) if "cap" in doc else None,
    )


def parse_rules(doc: dict[str, Any], where: str) -> Rules:
    defaults = Rules()
    known = {f.name for f in fields(Rules)}
    check_keys(doc, known, "rules.", where)
    values: dict[str, Any] = {}
    for name, value in doc.items():
        key = f"rules.{name}"
        default = getattr(defaults, name)
        if isinstance(default, bool):
            values[name] = boolean(value, key, where)
        elif isinstance(default, tuple):
            values[name] = tuple(s.lower() for s in strings(value, key, where))
        elif isinstance(default, float):
            values[name] = positive(value, key, where)
        else:  # int: counts and context lengths
            values[name] = count(value, key, where, allow_zero=name == "code_fill")
    return replace(defaults, **values)


# ---------------------------------------------------------------- typed readers, one line per mistake


def check_keys(doc: dict[str, Any], known: set[str], prefix: str, where: str) -> None:
    for key in doc:
        if key not in known:
            choices = ", ".join(sorted(known))
            raise CatalogError(f"{where}: unknown key `{prefix}{key}` (known: {choices})")


def table(value: Any, key: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: `{key}` must be a table, not {kind(value)}")
    return value


def strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: `{key}` must be a list of strings, not {kind(value)}")
    return tuple(value)


def count(value: Any, key: str, where: str, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "a whole number of at least 0" if allow_zero else "a whole number of at least 1"
        raise CatalogError(f"{where}: `{key}` must be {what}, not {kind(value)}")
    return value


def positive(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise CatalogError(f"{where}: `{key}` must be a number greater than 0, not {kind(value)}")
    return float(value)


def boolean(value: Any, key: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: `{key}` must be true or false, not {kind(value)}")
    return value


def kind(value: Any) -> str:
    """How a wrong value is named in a message: its TOML type and a short echo of it."""
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "an array", dict: "a table"}
    label = names.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)):
        return label
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
    return f"{label} ({shown})"
