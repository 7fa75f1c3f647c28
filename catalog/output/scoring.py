"""A pool's score of one model: points per signal, and the words that explain them. Pure.

Ranking reads only the points (pool_points, total); the words (signals) are written for the
models a pool shows and for `catalog pools --explain`, never for the thousands it only ranks.
The signals no pool changes (context, tools, streak, removals, expiry, health) are counted once
per model (shared_points, kept on its Profile), not once per pool.

Scoring is described for users in the manual's pools page; the constants below are the numbers that
text quotes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from catalog.config.pools import PoolRules, Rules
from catalog.output.poolrecords import Profile, Signal
from catalog.state import ModelHealth

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

# The signals, in the order they are summed and shown.
SIGNALS = ("size", "context", "tools", "reasoning", "streak", "removals", "expiry", "health", "latency")


Points = Callable[["Profile"], tuple[float, ...]]  # one pool's points of a model, per signal


def rounded(points: float) -> float:
    """Points rounded to 2 places as each signal is made (+ 0.0 turns -0.0 into 0.0)."""
    return round(points, 2) + 0.0


def total(points: tuple[float, ...]) -> float:
    return round(sum(points), 2)


def shared_points(
    context: int | None,
    tools: bool,
    streak_days: float,
    times_removed: int,
    expires: date | None,
    health: ModelHealth,
    rules: Rules,
) -> tuple[float, ...]:
    """The rounded points of context, tools, streak, removals, expiry and health: alike in every pool."""
    return (
        *record_points(context, tools, streak_days, times_removed, expires is not None),
        rounded(health_points(health, rules)),
    )


@lru_cache(maxsize=4096)  # 50,000 models share a few hundred of these
def record_points(
    context: int | None, tools: bool, streak_days: float, times_removed: int, expiring: bool
) -> tuple[float, ...]:
    return (
        rounded(context_points(context)),
        rounded(TOOLS_POINTS if tools else 0.0),
        rounded(min(math.log2(1 + streak_days), STREAK_MAX_POINTS)),
        rounded(-min(REMOVAL_POINTS * times_removed, REMOVAL_MAX_POINTS)),
        rounded(-EXPIRY_POINTS if expiring else 0.0),
    )


@lru_cache(maxsize=4096)  # a few hundred sizes among 50,000 models
def size_points(size_b: float) -> float:
    return round(max(0.0, math.log2(size_b)), 2) + 0.0


def pool_points(pool: str, rules: Rules, spec: PoolRules) -> Points:
    """A pool's points for one model: every signal's rounded points, in SIGNALS order. What
    depends only on the pool is worked out here once, not once per model."""
    ceilings = ([rules.small_max_b] if pool == "SMALL" else []) + ([spec.max_b] if spec.max_b else [])
    ceiling = min(ceilings, default=None)  # SMALL's limit and the pool's max_b bound the size that counts
    reasoning = rounded(reasoning_points(pool, spec))
    fast = rounded(rules.fast_latency_points) if speed_pool(pool, spec) else 0.0
    fast_ms = rules.fast_latency_ms

    def points(p: Profile) -> tuple[float, ...]:
        size_b = p.assumed_b if ceiling is None else min(p.assumed_b, ceiling)
        context, tools, streak, removals, expiry, health = p.shared_points
        latency = p.health.latency_p50_ms
        return (
            size_points(size_b),
            context,
            tools,
            reasoning if p.reasoning else 0.0,
            streak,
            removals,
            expiry,
            health,
            fast if latency is not None and latency <= fast_ms else 0.0,
        )

    return points


def explained_signals(pool: str, p: Profile, rules: Rules, spec: PoolRules) -> tuple[Signal, ...]:
    """Every signal of the pool's score with the words that explain it."""
    return tuple(map(Signal, SIGNALS, pool_points(pool, rules, spec)(p), signal_details(pool, p, rules, spec)))


def signal_details(pool: str, p: Profile, rules: Rules, spec: PoolRules) -> tuple[str, ...]:
    context = p.record.context_length or p.record.top_context_length
    return (
        p.size.label or f"unknown, counted as {p.assumed_b:g}B",
        f"{context or 'unknown'} tokens",
        "supports tools" if p.tools else "no tools",
        "supports reasoning" if p.reasoning else "no reasoning",
        f"free {p.streak_days:.1f} days without a break",
        f"removed {p.times_removed} times before",
        f"expires {p.expires}" if p.expires else "no expiry soon",
        health_detail(p.health, rules),
        latency_detail(pool, p.health, rules, spec),
    )


def health_points(h: ModelHealth, rules: Rules) -> float:
    points = 0.0
    if h.state == "degraded":
        points -= rules.degraded_points
    if h.availability_7d is not None:
        points += rules.availability_points if h.availability_7d >= rules.availability_min else 0.0
    return points


def health_detail(h: ModelHealth, rules: Rules) -> str:
    notes = []
    if h.state == "degraded":
        notes.append("degraded at the last sample")
    if h.availability_7d is not None:
        notes.append(f"available {h.availability_7d:.0%} of {h.known_7d} samples in 7 days")
    return "; ".join(notes) or f"{h.state}, too few samples for an availability"


def speed_pool(pool: str, spec: PoolRules) -> bool:
    """Speed counts where the pool is for fast answers: SMALL, and custom pools bounded by max_b."""
    return pool == "SMALL" or (pool not in REASONING_POINTS and spec.max_b is not None)


def latency_detail(pool: str, h: ModelHealth, rules: Rules, spec: PoolRules) -> str:
    if h.latency_p50_ms is None:
        return "latency not measured"
    where = "" if speed_pool(pool, spec) else " (counts in speed pools only)"
    return f"p50 {h.latency_p50_ms:g} ms{where}"


def reasoning_points(pool: str, spec: PoolRules) -> float:
    if pool in REASONING_POINTS:
        return REASONING_POINTS[pool]
    return 0.0 if spec.max_b is not None else CUSTOM_REASONING_POINTS


def context_points(context: int | None) -> float:
    if not context or context <= CONTEXT_BASE:
        return 0.0
    return min(math.log2(context / CONTEXT_BASE), CONTEXT_MAX_POINTS)
