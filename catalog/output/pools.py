"""Sort the free models into the pools (the four built-ins and those catalog.toml defines) and
rank them. Pure: a Snapshot and a PoolConfig in, Pools out; time comes only from the snapshot,
so the same registry state gives the same pools. The selectors of a pool live in selectors.py.

Rules and scoring are described for users in the README ("Pools"); the constants below are the
numbers that text quotes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from catalog.ingest.normalize import ModelRecord
from catalog.output.modelfacts import Size, expires_soon, matching_glob, size_fit, size_of, words_of
from catalog.output.poolconfig import POOL_NAMES, PoolConfig, PoolRules, Rules
from catalog.availability.probe import EXCLUDING
from catalog.output.selectors import LEFT_OUT, order_key, verdict
from catalog.state import FreeModel, ModelHealth, Snapshot

# Scoring weights (points). Sizes and contexts count in doublings so that 405B vs 70B matters as
# much as 70B vs 12B, and no single signal swamps the others.
CONTEXT_BASE = 8192  # a context this long or shorter earns nothing
CONTEXT_MAX_POINTS = 7.0  # reached at 1M tokens
TOOLS_POINTS = 2.0
REASONING_POINTS = {"LARGE": 3.0, "CODE": 2.0, "SMALL": 0.0, "VISION": 0.0}
# A custom pool: reasoning helps as it does for CODE, unless the pool bounds size with max_b (it
# then asks for speed, as SMALL does, and thinking first costs time).
CUSTOM_REASONING_POINTS = 2.0
STREAK_MAX_POINTS = 5.0  # log2(1 + days free without interruption), about a month to the maximum
REMOVAL_POINTS = 2.0  # taken off per past removal ...
REMOVAL_MAX_POINTS = 6.0  # ... up to this much
EXPIRY_POINTS = 4.0  # taken off when the API announces removal within EXPIRY_WINDOW_DAYS
@dataclass(frozen=True)
class Profile:
    """What the rules read about one free model."""

    model: FreeModel
    size: Size
    reasoning: bool
    tools: bool
    reads_text: bool
    reads_images: bool
    writes_text_only: bool
    coding: str | None  # the code pattern that matched
    router: str | None  # the router glob that matched
    skip: str | None  # the skip word that matched
    small: tuple[bool, str]  # fits SMALL by size, and why
    large: tuple[bool, str]  # fits LARGE by size, and why
    assumed_b: float  # size used for scoring (the class limit when the size is unknown)
    streak_days: float
    times_removed: int
    expires: date | None
    health: ModelHealth  # state `unknown` and nothing measured when never sampled
    unusable: str | None  # measured as unusable (down, or a recent probe that cannot succeed), and why

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def record(self) -> ModelRecord:
        return self.model.record


@dataclass(frozen=True)
class Signal:
    name: str  # size / context / tools / reasoning / streak / removals / expiry
    points: float
    detail: str


@dataclass(frozen=True)
class PoolEntry:
    profile: Profile
    score: float
    signals: tuple[Signal, ...]
    why: str  # the rule, pin or fill that put it in the pool
    pinned: bool = False
    filler: bool = False

    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def model(self) -> FreeModel:
        return self.profile.model


@dataclass(frozen=True)
class Decision:
    model_id: str
    status: str  # chosen / cut (below the cap) / left out / missing (pinned, not free)
    reason: str
    rank: int | None = None
    score: float | None = None
    failed: tuple[str, ...] = ()  # left out: the rules or selectors it failed (selectors.LEFT_OUT...)


@dataclass(frozen=True)
class Pools:
    pools: dict[str, list[PoolEntry]]
    explanations: dict[str, list[Decision]]  # per pool: chosen, cut, left out, missing
    profiles: dict[str, Profile] = field(default_factory=dict)
    config: PoolConfig = field(default_factory=PoolConfig)

    def ids(self, name: str) -> list[str]:
        return [entry.id for entry in self.pools.get(name, [])]


# ---------------------------------------------------------------- reading a model


def unusable_because(health: ModelHealth, now: datetime | None, rules: Rules) -> str | None:
    """Why measurements say a call to this model cannot succeed now; None when they do not."""
    if health.state == "down":
        where = f"{health.endpoints} endpoints" if health.endpoints == 0 else f"status {health.status}"
        return f"down at the last health sample ({where}, {format_day_time(health.sampled_at)})"
    probe = health.last_probe
    if probe is not None and probe.outcome in EXCLUDING and now is not None:
        if now - probe.at <= timedelta(hours=rules.probe_hours):
            return f"last probe {probe.outcome} ({format_day_time(probe.at)}, within rules.probe_hours)"
    return None


def format_day_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown time"


def profile_of(
    model: FreeModel,
    observed_at: datetime | None,
    rules: Rules,
    health: ModelHealth | None = None,
    health_at: datetime | None = None,
) -> Profile:
    record = model.record
    health = health or ModelHealth()
    params = set(record.supported_parameters)
    reasoning = bool(params & {"reasoning", "include_reasoning"})
    context = record.context_length or record.top_context_length
    words = words_of(record)
    size = size_of(record)
    small, large, assumed = size_fit(size, words, reasoning, context, rules)
    inputs, outputs = set(record.input_modalities), set(record.output_modalities)
    low_id, low_name = record.id.lower(), (record.name or "").lower()
    streak = 0.0
    if observed_at is not None:
        # Whole days, as the output shows them: an hour later ranks the pools the same, so a
        # resync of an unchanged answer can skip the render (catalog/render_skip.py).
        streak = float(max(0, (observed_at - model.free_since) // timedelta(days=1)))
    return Profile(
        model=model,
        size=size,
        reasoning=reasoning,
        tools="tools" in params,
        # An older answer without modalities is a text model: that is all the API listed then.
        reads_text=not inputs or "text" in inputs,
        reads_images="image" in inputs,
        writes_text_only=not outputs or outputs == {"text"},
        coding=next((p for p in rules.code_patterns if p in low_id or p in low_name), None),
        router=matching_glob(record.id, rules.routers),
        skip=next((w for w in rules.skip_words if w in words), None),
        small=small,
        large=large,
        assumed_b=assumed,
        streak_days=streak,
        times_removed=model.times_removed,
        expires=expires_soon(record, observed_at),
        health=health,
        unusable=unusable_because(health, health_at or observed_at, rules),
    )


# ---------------------------------------------------------------- rules and score per pool


def admits(pool: str, p: Profile, rules: Rules) -> tuple[bool, str]:
    """Does the pool's own rule take this model, and why (or why not)."""
    if pool == "VISION":
        if not p.reads_images:
            return False, "does not read images"
        if not p.writes_text_only:
            return False, not_text_only(p)
        return True, "reads images, writes text"
    if not p.writes_text_only:
        return False, not_text_only(p)
    if not p.reads_text:
        return False, "does not read text"
    if pool == "CODE":
        if p.coding is None:
            return False, "not a coding model (rules.code_patterns)"
        return True, f"coding model ('{p.coding}' in id or name)"
    if p.coding is not None and rules.code_only:
        return False, f"coding model ('{p.coding}'): CODE only (rules.code_only)"
    return p.small if pool == "SMALL" else p.large


def not_text_only(p: Profile) -> str:
    return f"writes {'+'.join(p.record.output_modalities)}, not text only"


def left_out(pool: str, p: Profile, config: PoolConfig) -> str | None:
    """Why the model is out of the pool before any rule looks at it (config and routers)."""
    if glob := matching_glob(p.id, config.exclude):
        return f"excluded by pools.exclude '{glob}'"
    if glob := matching_glob(p.id, config.pool(pool).exclude):
        return f"excluded by pools.{pool}.exclude '{glob}'"
    if p.unusable is not None:
        return p.unusable
    if p.router is not None:
        return f"router or alias (rules.routers '{p.router}')"
    if p.skip is not None:
        return f"not a chat model (rules.skip_words '{p.skip}')"
    return None


def score(pool: str, p: Profile, rules: Rules, spec: PoolRules | None = None) -> tuple[float, tuple[Signal, ...]]:
    spec = spec or PoolRules()
    ceilings = [rules.small_max_b] if pool == "SMALL" else []
    size_b = min([p.assumed_b, *ceilings, *([spec.max_b] if spec.max_b else [])])
    size_label = p.size.label or f"unknown, counted as {p.assumed_b:g}B"
    context = p.record.context_length or p.record.top_context_length
    # Points rounded to 2 places as each signal is made (+ 0.0 turns -0.0 into 0.0): one Signal
    # each, not one and then a rounded copy.
    health, latency = health_signal(p.health, rules), latency_signal(pool, p.health, rules, spec)
    rounded = (
        _rounded("size", max(0.0, math.log2(size_b)), size_label),
        _rounded("context", context_points(context), f"{context or 'unknown'} tokens"),
        _rounded("tools", TOOLS_POINTS if p.tools else 0.0, "supports tools" if p.tools else "no tools"),
        _rounded(
            "reasoning",
            reasoning_points(pool, spec) if p.reasoning else 0.0,
            "supports reasoning" if p.reasoning else "no reasoning",
        ),
        _rounded("streak", min(math.log2(1 + p.streak_days), STREAK_MAX_POINTS), f"free {p.streak_days:.1f} days without a break"),
        _rounded("removals", -min(REMOVAL_POINTS * p.times_removed, REMOVAL_MAX_POINTS), f"removed {p.times_removed} times before"),
        _rounded("expiry", -EXPIRY_POINTS if p.expires else 0.0, f"expires {p.expires}" if p.expires else "no expiry soon"),
        _rounded(health.name, health.points, health.detail),
        _rounded(latency.name, latency.points, latency.detail),
    )
    return round(sum(s.points for s in rounded), 2), rounded


def _rounded(name: str, points: float, detail: str) -> Signal:
    return Signal(name, round(points, 2) + 0.0, detail)


def health_signal(h: ModelHealth, rules: Rules) -> Signal:
    points, notes = 0.0, []
    if h.state == "degraded":
        points -= rules.degraded_points
        notes.append("degraded at the last sample")
    if h.availability_7d is not None:
        good = h.availability_7d >= rules.availability_min
        points += rules.availability_points if good else 0.0
        notes.append(f"available {h.availability_7d:.0%} of {h.known_7d} samples in 7 days")
    return Signal("health", points, "; ".join(notes) or f"{h.state}, too few samples for an availability")


def latency_signal(pool: str, h: ModelHealth, rules: Rules, spec: PoolRules) -> Signal:
    """Speed counts where the pool is for fast answers: SMALL, and custom pools bounded by max_b."""
    if h.latency_p50_ms is None:
        return Signal("latency", 0.0, "latency not measured")
    speed_pool = pool == "SMALL" or (pool not in REASONING_POINTS and spec.max_b is not None)
    fast = speed_pool and h.latency_p50_ms <= rules.fast_latency_ms
    where = "" if speed_pool else " (counts in speed pools only)"
    return Signal("latency", rules.fast_latency_points if fast else 0.0, f"p50 {h.latency_p50_ms:g} ms{where}")


def reasoning_points(pool: str, spec: PoolRules) -> float:
    if pool in REASONING_POINTS:
        return REASONING_POINTS[pool]
    return 0.0 if spec.max_b is not None else CUSTOM_REASONING_POINTS


def context_points(context: int | None) -> float:
    if not context or context <= CONTEXT_BASE:
        return 0.0
    return min(math.log2(context / CONTEXT_BASE), CONTEXT_MAX_POINTS)


def entry(pool: str, p: Profile, config: PoolConfig, why: str, **flags: bool) -> PoolEntry:
    total, signals = score(pool, p, config.rules, config.pool(pool))
    return PoolEntry(profile=p, score=total, signals=signals, why=why, **flags)


def ranked(entries: list[PoolEntry], order: str = "score") -> list[PoolEntry]:
    """Best first by the pool's order (score unless set); ties broken by id so the order never
    depends on input order."""
    return sorted(entries, key=order_key(order))


# ---------------------------------------------------------------- building the pools


def build_pools(snapshot: Snapshot, config: PoolConfig) -> Pools:
    rules = config.rules
    profiles = {
        m.id: profile_of(m, snapshot.observed_at, rules, snapshot.health.get(m.id), snapshot.health_at)
        for m in sorted(snapshot.models, key=lambda m: m.id)
    }
    pools: dict[str, list[PoolEntry]] = {}
    explanations: dict[str, list[Decision]] = {}
    for name in config.names:
        pools[name], explanations[name] = build_pool(name, profiles, config)
    return Pools(pools=pools, explanations=explanations, profiles=profiles, config=config)


def build_pool(name: str, profiles: dict[str, Profile], config: PoolConfig) -> tuple[list[PoolEntry], list[Decision]]:
    pinned, missing = pinned_entries(name, profiles, config)
    pinned_ids = {e.id for e in pinned}
    candidates: list[PoolEntry] = []
    rejected: dict[str, tuple[str, tuple[str, ...]]] = {}  # id -> why, failed keys
    for p in profiles.values():
        if p.id in pinned_ids:
            continue
        if reason := left_out(name, p, config):
            rejected[p.id] = (reason, (LEFT_OUT,))
            continue
        judged = judge(name, p, config)
        if judged.ok:
            candidates.append(entry(name, p, config, judged.why))
        else:
            rejected[p.id] = (judged.why, judged.failed)
    ordered = pinned + ranked(candidates, config.pool(name).order)
    if name == "CODE":
        fillers = code_fillers(ordered, profiles, config)
        for f in fillers:
            rejected.pop(f.id, None)
        ordered += fillers
    cap = config.cap_of(name)
    chosen, cut = ordered[:cap], ordered[cap:]
    decisions = [Decision(e.id, "chosen", e.why, i, e.score) for i, e in enumerate(chosen, 1)]
    decisions += [
        Decision(e.id, "cut", f"{e.why}; ranked {i} of {len(ordered)}, below the cap of {cap}", i, e.score)
        for i, e in enumerate(cut, cap + 1)
    ]
    decisions += [Decision(mid, "left out", why, failed=failed) for mid, (why, failed) in sorted(rejected.items())]
    return chosen, decisions + missing


def judge(name: str, p: Profile, config: PoolConfig):
    """The pool's own rule (built-ins only) and its selectors, once nothing left the model out."""
    builtin = admits(name, p, config.rules) if name in POOL_NAMES else None
    return verdict(name, config.pool(name), p, builtin)


def pinned_entries(name: str, profiles: dict[str, Profile], config: PoolConfig):
    """Pins in config order. A pin skips the pool's rule but never an exclusion or the free rule."""
    entries: list[PoolEntry] = []
    missing: list[Decision] = []
    for mid in dict.fromkeys(config.pool(name).pin):  # a pin listed twice counts once
        p = profiles.get(mid)
        if p is None:
            missing.append(Decision(mid, "missing", f"pinned by pools.{name}.pin, but not free now"))
            continue
        for glob, key in ((matching_glob(mid, config.exclude), "pools.exclude"),
                          (matching_glob(mid, config.pool(name).exclude), f"pools.{name}.exclude")):
            if glob:
                missing.append(Decision(mid, "left out", f"pinned, but excluded by {key} '{glob}'"))
                break
        else:
            if p.unusable is not None:
                missing.append(Decision(mid, "left out", f"pinned, but {p.unusable}"))
                continue
            entries.append(entry(name, p, config, f"pinned by pools.{name}.pin", pinned=True))
    return entries, missing


def code_fillers(ordered: list[PoolEntry], profiles: dict[str, Profile], config: PoolConfig) -> list[PoolEntry]:
    """Too few coding models free: the best LARGE models (scored for CODE) fill up to code_fill."""
    need = config.rules.code_fill - len(ordered)
    if need <= 0:
        return []
    taken = {e.id for e in ordered}
    pool = []
    for p in profiles.values():
        if p.id in taken or left_out("CODE", p, config) or left_out("LARGE", p, config):
            continue
        # A filler must pass what CODE's selectors ask too, if any are set.
        if admits("LARGE", p, config.rules)[0] and verdict("CODE", config.pool("CODE"), p, None).ok:
            why = f"fills CODE up to {config.rules.code_fill} (rules.code_fill): a LARGE model, not a coding one"
            pool.append(entry("CODE", p, config, why, filler=True))
    return ranked(pool, config.pool("CODE").order)[:need]
