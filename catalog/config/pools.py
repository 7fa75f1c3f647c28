"""Pool rules from `catalog.toml`: defaults and strict validation.

Every mistake in the file (unknown key, wrong type) is one CatalogError line naming the key, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from catalog.config.checks import boolean, check_keys, choice, lowered, nonempty, number, ranged, strings, table, whole
from catalog.config.exports import Export
from catalog.config.watch import WatchConfig
from catalog.errors import CatalogError

POOL_NAMES = ("SMALL", "LARGE", "CODE", "VISION")  # the built-in pools, in their default order
DEFAULT_CAP = 5
POOL_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
MODALITIES = ("text", "image", "audio", "video", "file")  # what OpenRouter lists in architecture
ORDERS = ("score", "context", "size", "free_since")
UNKNOWN_SIZES = ("exclude", "include", "assume")
TEXTS = ("title", "title_zh", "advice", "advice_zh")
SELECTOR_KEYS = ("min_context", "input", "output", "tools", "reasoning", "vendors", "include", "min_b", "max_b")
# The ranges of the file's numbers (the manual's config reference lists them): wide enough for any
# real model or wish, narrow enough that no value overflows a column, a date or a score.
MAX_CAP = 1000  # models in one pool
MAX_CONTEXT = 1_000_000_000  # tokens
MAX_B = 100_000.0  # billions of parameters
MAX_POINTS = 1000.0  # a score's bonus or malus
MAX_LATENCY_MS = 3_600_000.0  # an hour
MAX_PROBE_HOURS = 8760  # a year


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
        en: str | None = getattr(self, key)
        zh: str | None = getattr(self, f"{key}_zh")
        return (zh or en) if lang == "zh" else (en or zh)


@dataclass(frozen=True)
class Rules:
    """How models are classified; the manual's pools page says what each one means."""

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
    # Measured health (the manual's health page); unmeasured health neither helps nor hurts.
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
    exports: tuple[Export, ...] = ()  # [exports]: gateway configs written with every render

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
    readers: dict[str, Callable[[Any, str, str], Any]] = {  # each field's reader: values of many types
        "pin": strings,
        "exclude": strings,
        "cap": ranged(whole, 1, MAX_CAP),
        "enabled": boolean,
        "min_context": ranged(whole, 1, MAX_CONTEXT),
        "input": modalities,
        "output": modalities,
        "tools": boolean,
        "reasoning": boolean,
        "vendors": lowered,
        "include": strings,
        "min_b": ranged(number, MAX_B),
        "max_b": ranged(number, MAX_B),
        "unknown_size": choice(UNKNOWN_SIZES),
        "order": choice(ORDERS),
        **dict.fromkeys(TEXTS, nonempty),
    }
    rules = PoolRules(**{name: readers[name](value, f"{key}.{name}", where) for name, value in doc.items()})
    if rules.min_b is not None and rules.max_b is not None and rules.min_b > rules.max_b:
        raise CatalogError(f"{where}: `{key}.min_b` ({rules.min_b:g}) is above `{key}.max_b` ({rules.max_b:g})")
    if "unknown_size" in doc and rules.min_b is None and rules.max_b is None:
        raise CatalogError(f"{where}: `{key}.unknown_size` only applies with min_b or max_b; set one or drop it")
    return rules


# [rules] numbers: the whole ones with their lowest and highest value, the others at most this.
RULE_COUNTS = {"large_min_context": (1, MAX_CONTEXT), "code_fill": (0, MAX_CAP), "probe_hours": (1, MAX_PROBE_HOURS)}
RULE_NUMBERS = {
    "small_max_b": MAX_B,
    "large_min_b": MAX_B,
    "degraded_points": MAX_POINTS,
    "availability_min": 1.0,  # a share of samples
    "availability_points": MAX_POINTS,
    "fast_latency_ms": MAX_LATENCY_MS,
    "fast_latency_points": MAX_POINTS,
}


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
        elif name in RULE_NUMBERS:
            values[name] = number(value, key, where, RULE_NUMBERS[name])
        else:
            values[name] = whole(value, key, where, *RULE_COUNTS[name])
    return replace(defaults, **values)


def modalities(value: Any, key: str, where: str) -> tuple[str, ...]:
    values = lowered(value, key, where)
    for v in values:
        if v not in MODALITIES:
            raise CatalogError(f"{where}: `{key}` has unknown modality {v!r} (known: {', '.join(MODALITIES)})")
    return values
