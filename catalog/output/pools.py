"""Sort the free models into the pools (the four built-ins and those catalog.toml defines) and
rank them. Pure: a Snapshot and a PoolConfig in, Pools out; time comes only from the snapshot,
so the same registry state gives the same pools. The selectors of a pool live in selectors.py,
its score in scoring.py.

A pool ranks every model it admits by points alone; the words (why each model is in, its
signals) are written for the models it shows, and the decisions on all the others (cut, left
out) when first asked for: a render reads none of them, `catalog pools --explain` all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from operator import attrgetter

from catalog.availability.probe import EXCLUDING, PRIVACY_URL
from catalog.config.pools import POOL_NAMES, PoolConfig, Rules
from catalog.output.modelfacts import expires_soon, first_word, matching_glob, size_fit, size_of, words_text
from catalog.output.poolrecords import Candidate, Decision, PoolEntry, Profile
from catalog.output.scoring import Points, explained_signals, pool_points, shared_points, total
from catalog.output.selectors import LEFT_OUT, Checks, Verdict, order_key, passes, pool_checks, verdict
from catalog.state import FreeModel, ModelHealth, Snapshot

FALLBACK_LIMIT = 3  # OpenRouter's `models` parameter takes at most 3 ids in practice


class Explanations(Mapping[str, list[Decision]]):
    """Pool name -> its decisions (chosen, cut, left out, missing), each pool's worked out when
    first read: most readers need none, and they are most of the work at 50,000 models."""

    def __init__(self, makers: dict[str, Callable[[], list[Decision]]]) -> None:
        self._makers = makers
        self._made: dict[str, list[Decision]] = {}

    def __getitem__(self, name: str) -> list[Decision]:
        if name not in self._made:
            self._made[name] = self._makers[name]()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def only(self, names: Iterable[str]) -> Explanations:
        """The same, for these pools only, still worked out when first read."""
        return Explanations({name: partial(self.__getitem__, name) for name in names})


@dataclass(frozen=True)
class Pools:
    pools: dict[str, list[PoolEntry]]
    explanations: Explanations  # per pool: chosen, cut, left out, missing
    profiles: dict[str, Profile] = field(default_factory=dict)
    config: PoolConfig = field(default_factory=PoolConfig)

    def ids(self, name: str) -> list[str]:
        return [entry.id for entry in self.pools.get(name, [])]


# ---------------------------------------------------------------- reading a model

DAY = timedelta(days=1)
UNMEASURED = ModelHealth()  # immutable: every model never measured shares it


def unusable_because(health: ModelHealth, now: datetime | None, rules: Rules) -> str | None:
    """Why measurements say a call to this model cannot succeed now; None when they do not."""
    if health.account == "blocked":
        return f"blocked for this account: not in its /models/user (privacy or guardrail settings, {PRIVACY_URL})"
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
    health = health or UNMEASURED
    params = record.supported_parameters
    reasoning = "reasoning" in params or "include_reasoning" in params
    tools = "tools" in params
    context = record.context_length or record.top_context_length
    text = words_text(record)
    size = size_of(record)
    small, large, assumed = size_fit(size, text, reasoning, context, rules)
    inputs, outputs = record.input_modalities, record.output_modalities
    low_id, low_name = record.id.lower(), (record.name or "").lower()
    streak = 0.0
    if observed_at is not None:
        # Whole days, as the output shows them: an hour later ranks the pools the same, so a
        # resync of an unchanged answer can skip the render (catalog/render_skip.py).
        streak = float(max(0, (observed_at - model.free_since) // DAY))
    expires = expires_soon(record, observed_at)
    router = matching_glob(record.id, rules.routers)
    skip = first_word(rules.skip_words, text)
    unusable = unusable_because(health, health_at or observed_at, rules)
    return Profile(
        id=record.id,
        model=model,
        size=size,
        reasoning=reasoning,
        tools=tools,
        # An older answer without modalities is a text model: that is all the API listed then.
        reads_text=not inputs or "text" in inputs,
        reads_images="image" in inputs,
        writes_text_only=all(o == "text" for o in outputs),  # none listed, or only text
        coding=next((p for p in rules.code_patterns if p in low_id or p in low_name), None),
        router=router,
        skip=skip,
        small=small,
        large=large,
        assumed_b=assumed,
        streak_days=streak,
        times_removed=model.times_removed,
        expires=expires,
        health=health,
        unusable=unusable,
        kept_out=kept_out(unusable, router, skip),
        shared_points=shared_points(context, tools, streak, model.times_removed, expires, health, rules),
    )


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
    return p.kept_out


def kept_out(unusable: str | None, router: str | None, skip: str | None) -> str | None:
    if unusable is not None:
        return unusable
    if router is not None:
        return f"router or alias (rules.routers '{router}')"
    if skip is not None:
        return f"not a chat model (rules.skip_words '{skip}')"
    return None


def explained(pool: str, c: Candidate, config: PoolConfig, checks: Checks) -> PoolEntry:
    """The candidate with its words: why it is in the pool, and each signal of its score."""
    signals = explained_signals(pool, c.profile, config.rules, config.pool(pool))
    why = explained_why(pool, c, config, checks)
    return PoolEntry(profile=c.profile, score=c.score, signals=signals, why=why, pinned=c.pinned, filler=c.filler)


def ranked(candidates: list[Candidate], order: str = "score") -> list[Candidate]:
    """Best first by the pool's order (score unless set); ties broken by id so the order never
    depends on input order."""
    return sorted(candidates, key=order_key(order))


# ---------------------------------------------------------------- building the pools


def build_pools(snapshot: Snapshot, config: PoolConfig) -> Pools:
    rules = config.rules
    profiles = {
        m.record.id: profile_of(m, snapshot.observed_at, rules, snapshot.health.get(m.record.id), snapshot.health_at)
        for m in sorted(snapshot.models, key=attrgetter("record.id"))
    }
    # What left_out() lets into every pool, before each pool's own exclude: most models, once.
    open_models = [p for p in profiles.values() if p.kept_out is None and not matching_glob(p.id, config.exclude)]
    pools: dict[str, list[PoolEntry]] = {}
    makers: dict[str, Callable[[], list[Decision]]] = {}
    for name in config.names:
        pools[name], makers[name] = build_pool(name, profiles, open_models, config)
    return Pools(pools=pools, explanations=Explanations(makers), profiles=profiles, config=config)


def build_pool(
    name: str, profiles: dict[str, Profile], open_models: list[Profile], config: PoolConfig
) -> tuple[list[PoolEntry], Callable[[], list[Decision]]]:
    """The pool's chosen entries, and how to write every decision on demand."""
    spec, rules = config.pool(name), config.rules
    checks, points = pool_checks(name, spec), pool_points(name, rules, spec)
    ordered = pinned_candidates(name, profiles, config, points)
    pinned = {c.profile.id for c in ordered}
    builtin = name in POOL_NAMES
    admitted = [
        Candidate(p, total(points(p)))
        for p in open_models
        if p.id not in pinned
        and not (spec.exclude and matching_glob(p.id, spec.exclude))
        and (not builtin or admits(name, p, rules)[0])
        and (not checks or passes(checks, p))
    ]
    ordered += ranked(admitted, spec.order)
    if name == "CODE":
        ordered += code_fillers(ordered, open_models, config, checks, points)
    cap = config.cap_of(name)
    chosen = [explained(name, c, config, checks) for c in ordered[:cap]]

    def decisions() -> list[Decision]:
        made = [Decision(e.id, "chosen", e.why, i, e.score) for i, e in enumerate(chosen, 1)]
        for i, c in enumerate(ordered[cap:], cap + 1):
            why = explained_why(name, c, config, checks)
            made.append(
                Decision(
                    c.profile.id, "cut", f"{why}; ranked {i} of {len(ordered)}, below the cap of {cap}", i, c.score
                )
            )
        placed = {c.profile.id for c in ordered}
        for p in sorted(profiles.values(), key=attrgetter("id")):
            if p.id not in placed:
                why, failed = rejection(name, p, config, checks)
                made.append(Decision(p.id, "left out", why, failed=failed))
        return made + pin_failures(name, profiles, config)

    return chosen, decisions


def judge(name: str, p: Profile, config: PoolConfig, checks: Checks) -> Verdict:
    """The pool's own rule (built-ins only) and its selectors, once nothing left the model out."""
    builtin = admits(name, p, config.rules) if name in POOL_NAMES else None
    return verdict(checks, p, builtin)


def explained_why(name: str, c: Candidate, config: PoolConfig, checks: Checks) -> str:
    return c.why if c.why is not None else judge(name, c.profile, config, checks).why


def rejection(name: str, p: Profile, config: PoolConfig, checks: Checks) -> tuple[str, tuple[str, ...]]:
    """Why the pool does not take the model, and the keys of what it failed."""
    if reason := left_out(name, p, config):
        return reason, (LEFT_OUT,)
    judged = judge(name, p, config, checks)
    return judged.why, judged.failed


def pinned_candidates(name: str, profiles: dict[str, Profile], config: PoolConfig, points: Points) -> list[Candidate]:
    """Pins in config order. A pin skips the pool's rule but never an exclusion or the free rule."""
    why = f"pinned by pools.{name}.pin"
    return [
        Candidate(profiles[mid], total(points(profiles[mid])), why, pinned=True)
        for mid in dict.fromkeys(config.pool(name).pin)
        if pin_failure(name, mid, profiles, config) is None
    ]


def pin_failures(name: str, profiles: dict[str, Profile], config: PoolConfig) -> list[Decision]:
    return [d for mid in dict.fromkeys(config.pool(name).pin) if (d := pin_failure(name, mid, profiles, config))]


def pin_failure(name: str, mid: str, profiles: dict[str, Profile], config: PoolConfig) -> Decision | None:
    """Why a pin does not hold (a pin listed twice counts once); None when it does."""
    p = profiles.get(mid)
    if p is None:
        return Decision(mid, "missing", f"pinned by pools.{name}.pin, but not free now")
    for glob, key in (
        (matching_glob(mid, config.exclude), "pools.exclude"),
        (matching_glob(mid, config.pool(name).exclude), f"pools.{name}.exclude"),
    ):
        if glob:
            return Decision(mid, "left out", f"pinned, but excluded by {key} '{glob}'")
    if p.unusable is not None:
        return Decision(mid, "left out", f"pinned, but {p.unusable}")
    return None


def code_fillers(
    ordered: list[Candidate], open_models: list[Profile], config: PoolConfig, checks: Checks, points: Points
) -> list[Candidate]:
    """Too few coding models free: the best LARGE models (scored for CODE) fill up to code_fill.
    A filler must pass what CODE's selectors (`checks`) ask too, and neither pool may exclude it."""
    need = config.rules.code_fill - len(ordered)
    if need <= 0:
        return []
    taken = {c.profile.id for c in ordered}
    excluded = config.pool("CODE").exclude + config.pool("LARGE").exclude
    why = f"fills CODE up to {config.rules.code_fill} (rules.code_fill): a LARGE model, not a coding one"
    fillers = [
        Candidate(p, total(points(p)), why, filler=True)
        for p in open_models
        if p.id not in taken
        and not matching_glob(p.id, excluded)
        and admits("LARGE", p, config.rules)[0]
        and passes(checks, p)
    ]
    return ranked(fillers, config.pool("CODE").order)[:need]
