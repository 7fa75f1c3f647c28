"""Pool rules from `catalog.toml`: defaults, loading and strict validation.

Every mistake in the file (unknown key, wrong type) is one CatalogError line naming the key, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from catalog.errors import CatalogError
from catalog.settings import DEFAULT_CONFIG
from catalog.config.watch import WatchConfig, parse_watch

POOL_NAMES = ("SMALL", "LARGE", "CODE", "VISION")  # the built-in pools, in their default order
DEFAULT_CAP = 5
POOL_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
MODALITIES = ("text", "image", "audio", "video", "file")  # what OpenRouter lists in architecture
ORDERS = ("score", "context", "size", "free_since")
UNKNOWN_SIZES = ("exclude", "include", "assume")
TEXTS = ("title", "title_zh", "advice", "advice_zh")
SELECTOR_KEYS = ("min_context", "input", "output", "tools", "reasoning", "vendors", "include", "min_b", "max_b")


@dataclass(frozen=True)
class PoolRules:
    """What the config says about one pool: its own selectors (all must hold), pins and texts."""

    pin: tuple[str, ...] = ()  # exact ids put first, in this order, when free now
    exclude: tuple[str, ...] = ()  # id globs never in this pool
    cap: int | None = None  # None: the file-wide cap
    enabled: bool = True
    title: str | None = None  # report heading and .ts comment; title_zh for --lang zh
    title_zh: str | None = None
    advice: str | None = None  # the usage-advice line; advice_zh for --lang zh
    advice_zh: str | None = None
    min_context: int | None = None  # tokens, at least
    input: tuple[str, ...] = ()  # input modalities the model must all read
    output: tuple[str, ...] | None = None  # output modalities it must all write; None: text only
    tools: bool | None = None  # True: must support tool calls; False: must not
    reasoning: bool | None = None  # likewise for reasoning
    vendors: tuple[str, ...] = ()  # any of these vendors (the id before the `/`)
    include: tuple[str, ...] = ()  # any of these id globs
    min_b: float | None = None  # total parameters, billions, at least
    max_b: float | None = None  # active (MoE) or total parameters, billions, at most
    unknown_size: str = "exclude"  # size unknown and a bound set: exclude, include or assume
    order: str = "score"  # score, context, size or free_since; then id

    def text(self, key: str, lang: str) -> str | None:
        """title or advice in `lang`, else in the other language; None when neither is set."""
        en, zh = getattr(self, key), getattr(self, f"{key}_zh")
        return (zh or en) if lang == "zh" else (en or zh)


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
    order: tuple[str, ...] = ()  # pools.order: these first, then the others in default order
    watch: WatchConfig = field(default_factory=WatchConfig)  # [feed], [charts], [notify]

    @property
    def names(self) -> tuple[str, ...]:
        """The enabled pools in output order: pools.order first, then built-ins, then custom pools
        in the file's order."""
        rest = [name for name in self.pools if name not in self.order]
        return tuple(name for name in (*self.order, *rest) if self.pools[name].enabled)

    def pool(self, name: str) -> PoolRules:
        rules = self.pools.get(name)  # not .get(name, PoolRules()): building the default costs 3 µs a call
        return PoolRules() if rules is None else rules

    def cap_of(self, name: str) -> int:
        own = self.pool(name).cap
        return self.cap if own is None else own

    def select(self, names: list[str] | None, option: str = "--pool") -> tuple[str, ...]:
        """The pools an option like `--pool NAME` names (all enabled ones when none), checked."""
        if not names:
            return self.names
        for name in names:
            if name in self.pools and not self.pools[name].enabled:
                raise CatalogError(f"{option} {name}: that pool is switched off (pools.{name}.enabled = false)")
            if name not in self.pools:
                raise CatalogError(f"{option} {name}: no such pool; the pools are {', '.join(self.names)}")
        return tuple(dict.fromkeys(names))


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
    check_keys(doc, {"pools", "rules", "feed", "charts", "notify"}, "", where)
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
        config = replace(config, cap=count(pools_doc["cap"], "pools.cap", where))
    if "exclude" in pools_doc:
        config = replace(config, exclude=strings(pools_doc["exclude"], "pools.exclude", where))
    names = [*POOL_NAMES, *(k for k in pools_doc if k not in settings and k not in POOL_NAMES)]
    per_pool = {name: parse_pool(pools_doc.get(name, {}), f"pools.{name}", where) for name in names}
    for name in names[len(POOL_NAMES):]:
        check_custom(name, per_pool[name], where)
    config = replace(config, pools=per_pool, rules=parse_rules(rules_doc, where), watch=parse_watch(doc, where))
    if "order" in pools_doc:
        config = replace(config, order=pool_order(pools_doc["order"], per_pool, where))
    if not config.names:
        raise CatalogError(f"{where}: every pool is switched off (`enabled = false`); keep at least one")
    return config


def check_custom(name: str, rules: PoolRules, where: str) -> None:
    """A custom pool must select something, so a misspelt built-in ([pools.SMAL]) is an error and
    not a new pool holding every model."""
    if rules.pin or any(getattr(rules, key) != getattr(PoolRules(), key) for key in SELECTOR_KEYS):
        return
    import difflib

    close = difflib.get_close_matches(name, POOL_NAMES, n=1)
    hint = f"did you mean [pools.{close[0]}]? " if close else ""
    raise CatalogError(
        f"{where}: `pools.{name}` is not a built-in pool and sets no selector or pin; {hint}"
        f"give it a selector ({', '.join(SELECTOR_KEYS)}) or a pin"
    )


def pool_order(value: Any, pools: dict[str, PoolRules], where: str) -> tuple[str, ...]:
    order = strings(value, "pools.order", where)
    for name in order:
        if name not in pools:
            raise CatalogError(f"{where}: `pools.order` names {name!r}, which is no pool (pools: {', '.join(pools)})")
        if not pools[name].enabled:
            raise CatalogError(f"{where}: `pools.order` names {name}, which is switched off (pools.{name}.enabled)")
    if len(set(order)) != len(order):
        raise CatalogError(f"{where}: `pools.order` names a pool twice")
    return order


def parse_pool(raw: Any, key: str, where: str) -> PoolRules:
    """One [pools.NAME] table. Built-in and custom pools take the same keys: on a built-in the
    selectors narrow its own rule further."""
    doc = table(raw, key, where)
    check_keys(doc, {f.name for f in fields(PoolRules)}, f"{key}.", where)
    readers = {
        "pin": strings, "exclude": strings, "cap": count, "enabled": boolean, "min_context": count,
        "input": modalities, "output": modalities, "tools": boolean, "reasoning": boolean,
        "vendors": lowered, "include": strings, "min_b": positive, "max_b": positive,
        "unknown_size": choice(UNKNOWN_SIZES), "order": choice(ORDERS), **dict.fromkeys(TEXTS, nonempty),
    }
    rules = PoolRules(**{name: readers[name](value, f"{key}.{name}", where) for name, value in doc.items()})
    if rules.min_b is not None and rules.max_b is not None and rules.min_b > rules.max_b:
        raise CatalogError(f"{where}: `{key}.min_b` ({rules.min_b:g}) is above `{key}.max_b` ({rules.max_b:g})")
    if "unknown_size" in doc and rules.min_b is None and rules.max_b is None:
        raise CatalogError(f"{where}: `{key}.unknown_size` only applies with min_b or max_b; set one or drop it")
    return rules


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


def lowered(value: Any, key: str, where: str) -> tuple[str, ...]:
    return tuple(v.lower() for v in strings(value, key, where))


def modalities(value: Any, key: str, where: str) -> tuple[str, ...]:
    values = lowered(value, key, where)
    for v in values:
        if v not in MODALITIES:
            raise CatalogError(f"{where}: `{key}` has unknown modality {v!r} (known: {', '.join(MODALITIES)})")
    return values


def choice(options: tuple[str, ...]):
    def read(value: Any, key: str, where: str) -> str:
        if value not in options:
            raise CatalogError(f"{where}: `{key}` must be one of {', '.join(map(repr, options))}, not {kind(value)}")
        return value

    return read


def nonempty(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: `{key}` must be a non-empty string, not {kind(value)}")
    return value


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
