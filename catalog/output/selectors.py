"""The selectors a `[pools.NAME]` table may set, each one a check that says in one line, naming its
key, why a model passes or fails it; and the orders a pool may rank by. Pure, like pools.py.

A custom pool takes a model when every selector it sets holds (and, with no `output`, when the
model writes text only, as the built-in pools ask). On a built-in pool the selectors narrow its
own rule: both must hold. A new selector is one function added to SELECTORS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TypeAlias

from catalog.config.pools import POOL_NAMES, PoolRules
from catalog.output.poolrecords import Candidate, Decision, PoolEntry, Profile

Ranked: TypeAlias = Candidate | PoolEntry  # what a pool ranks: a profile and its score

LEFT_OUT = "left_out"  # failure key of the cross-pool exclusions (pools.left_out)
RULE = "rule"  # failure key of a built-in pool's own rule


@dataclass(frozen=True)
class Check:
    key: str  # the selector that decided, e.g. "min_context"
    ok: bool
    detail: str  # why, naming pools.NAME.key


@dataclass(frozen=True)
class Verdict:
    ok: bool
    why: str  # every reason, joined
    failed: tuple[str, ...]  # the keys that failed: RULE and/or selector names


Checker = Callable[["Profile"], Check]  # one selector, bound to a pool
Checks = tuple[Checker, ...]


def pool_checks(name: str, spec: PoolRules) -> Checks:
    """The checks of the selectors the pool sets, bound to it once (not once per model)."""
    return tuple(check for selector in SELECTORS if (check := selector(name, spec)) is not None)


def passes(checks: Checks, p: Profile) -> bool:
    """Whether every check holds: verdict's answer without its words."""
    return all(check(p).ok for check in checks)


def verdict(checks: Checks, p: Profile, builtin: tuple[bool, str] | None) -> Verdict:
    """All that decides a model for a pool once nothing left it out: the built-in rule (None for a
    custom pool), then every selector set. A failure lists every failed selector, not the first."""
    results = [check(p) for check in checks]
    failed = [c for c in results if not c.ok]
    if builtin is not None and not builtin[0]:
        return Verdict(False, "; ".join([builtin[1], *(c.detail for c in failed)]), (RULE, *(c.key for c in failed)))
    if failed:
        return Verdict(False, "; ".join(c.detail for c in failed), tuple(c.key for c in failed))
    reasons = ([builtin[1]] if builtin else []) + [c.detail for c in results]
    return Verdict(True, "; ".join(reasons), ())


# ---------------------------------------------------------------- the selectors
# Each reads the pool's spec once and gives the check it asks for, or None when it is not set.


def min_context(name: str, spec: PoolRules) -> Checker | None:
    if spec.min_context is None:
        return None
    limit, key = spec.min_context, f"pools.{name}.min_context"

    def check(p: Profile) -> Check:
        context = p.record.context_length or p.record.top_context_length
        if context is None:
            return Check("min_context", False, f"context unknown ({key} {limit})")
        ok = context >= limit
        return Check("min_context", ok, f"context {context} {'≥' if ok else '<'} {limit} ({key})")

    return check


def input_modalities(name: str, spec: PoolRules) -> Checker | None:
    if not spec.input:
        return None
    # An older answer without modalities is a text model: that is all the API listed then.
    return lambda p: required("input", spec.input, p.record.input_modalities or ("text",), "reads", name)


def output_modalities(name: str, spec: PoolRules) -> Checker | None:
    if (wanted := spec.output) is not None:  # spec is frozen: the same tuple at every call
        return lambda p: required("output", wanted, p.record.output_modalities or ("text",), "writes", name)
    if name in POOL_NAMES:
        return None  # the built-in rule already asks for text only

    def check(p: Profile) -> Check:
        if p.writes_text_only:
            return Check("output", True, "writes text only")
        written = "+".join(p.record.output_modalities)
        return Check("output", False, f"writes {written}, not text only (pools.{name}.output unset)")

    return check


def required(key: str, wanted: tuple[str, ...], has: tuple[str, ...], verb: str, name: str) -> Check:
    missing = [m for m in wanted if m not in has]
    if missing:
        return Check(key, False, f"{verb} {'+'.join(has)}, not {'+'.join(missing)} (pools.{name}.{key})")
    return Check(key, True, f"{verb} {'+'.join(wanted)}")


def tools(name: str, spec: PoolRules) -> Checker | None:
    return flag("tools", spec.tools, lambda p: p.tools, "tool calls", name)


def reasoning(name: str, spec: PoolRules) -> Checker | None:
    return flag("reasoning", spec.reasoning, lambda p: p.reasoning, "reasoning", name)


def flag(key: str, wanted: bool | None, has_of: Callable[[Profile], bool], what: str, name: str) -> Checker | None:
    if wanted is None:
        return None

    def check(p: Profile) -> Check:
        has = has_of(p)
        said = f"supports {what}" if has else f"no {what}"
        return Check(
            key, has == wanted, said if has == wanted else f"{said} (pools.{name}.{key} = {str(wanted).lower()})"
        )

    return check


def vendors(name: str, spec: PoolRules) -> Checker | None:
    if not spec.vendors:
        return None

    def check(p: Profile) -> Check:
        vendor = p.record.vendor.lower()
        if vendor in spec.vendors:
            return Check("vendors", True, f"vendor {vendor}")
        return Check("vendors", False, f"vendor {vendor} not in pools.{name}.vendors")

    return check


def include(name: str, spec: PoolRules) -> Checker | None:
    if not spec.include:
        return None

    def check(p: Profile) -> Check:
        low = p.id.lower()
        if glob := next((g for g in spec.include if fnmatchcase(low, g.lower())), None):
            return Check("include", True, f"id matches '{glob}'")
        return Check("include", False, f"id matches none of pools.{name}.include")

    return check


def min_b(name: str, spec: PoolRules) -> Checker | None:
    """Total parameters, as LARGE counts them."""
    if spec.min_b is None:
        return None
    return lambda p: bound("min_b", spec, p, p.size.total_b, "total", name)


def max_b(name: str, spec: PoolRules) -> Checker | None:
    """Active parameters for a mixture of experts (they set the speed), as SMALL counts them."""
    if spec.max_b is None:
        return None
    return lambda p: bound("max_b", spec, p, p.size.speed_b, "active" if p.size.active_b is not None else "total", name)


def bound(key: str, spec: PoolRules, p: Profile, size: float | None, what: str, name: str) -> Check:
    limit = getattr(spec, key)
    where = f"pools.{name}.{key}"
    if size is None:
        policy = f"pools.{name}.unknown_size = '{spec.unknown_size}'"
        if spec.unknown_size == "include":
            return Check(key, True, f"size unknown, kept by {policy}")
        if spec.unknown_size == "exclude":
            return Check(key, False, f"size unknown, left out by {policy} ({where} {limit:g}B)")
        size = p.assumed_b  # what the SMALL/LARGE fallback gives it, and why
        fallback = p.small[1].removeprefix("size unknown; ")
        label = f"size unknown, taken as {size:g}B by {policy} ({fallback}): {size:g}B"
    else:
        label = f"{size:g}B {what}"
    ok = size >= limit if key == "min_b" else size <= limit
    sign = ("≥" if ok else "<") if key == "min_b" else ("≤" if ok else ">")
    return Check(key, ok, f"{label} {sign} {limit:g}B ({where})")


SELECTORS: tuple[Callable[[str, PoolRules], Checker | None], ...] = (
    min_context,
    input_modalities,
    output_modalities,
    tools,
    reasoning,
    vendors,
    include,
    min_b,
    max_b,
)


# ---------------------------------------------------------------- order and emptiness


def order_key(order: str) -> Callable[[Ranked], tuple[object, str]]:
    """How a pool ranks its models (pins stay first): best first, unknown values last, then id."""

    def context(e: Ranked) -> int:
        record = e.profile.model.record
        return record.context_length or record.top_context_length or 0

    keys: dict[str, Callable[[Ranked], tuple[object, str]]] = {
        "score": lambda e: (-e.score, e.profile.id),
        "context": lambda e: (-context(e), e.profile.id),
        "size": lambda e: (-(e.profile.size.total_b or 0.0), e.profile.id),
        "free_since": lambda e: (e.profile.model.free_since, e.profile.id),  # free the longest first
    }
    return keys[order]


def failure_counts(decisions: list[Decision]) -> list[tuple[str, int]]:
    """For an empty pool: how many models each rule or selector turned away (most first)."""
    counts = Counter(key for d in decisions if d.status == "left out" for key in d.failed)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def empty_reason(decisions: list[Decision], free_count: int) -> str | None:
    """One line saying why a pool holds nothing; None when it holds something."""
    if any(d.status == "chosen" for d in decisions):
        return None
    if not free_count:
        return "no free model is recorded"
    labels = {RULE: "the pool's own rule", LEFT_OUT: "exclusions"}
    parts = [f"{n} left out by {labels.get(k, k)}" for k, n in failure_counts(decisions)]
    return f"none of the {free_count} free models fits: {', '.join(parts)}"
