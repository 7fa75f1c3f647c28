"""The replacement rule: which free model to use instead of one that is gone, no longer free, down
or expiring. Pure: built once from the pools of the newest snapshot, then asked per model.

The rule, in order:
1. the best model of the pools the model was last in (each pool's order, those pools in the
   config's order), skipping the model itself;
2. else the closest model by vendor and size: the same vendor first, then the nearest size (by
   ratio, so 7B -> 8B is as near as 70B -> 80B), then measured up before degraded or unmeasured,
   the longer free streak, the id; a model of another vendor is taken only when both sizes are
   known;
3. else none.
A replacement is always free now and usable: measured neither down nor refused by a recent probe,
and not a router or alias (whatever pools the caller hands in). Outside a pool (step 2) it must
also be a chat model (no guard, embedding, ...), write text only and not be named by
`pools.exclude`, as the pools' own members are.

The feed's `gone` list and `catalog check` both ask it; `catalog check` also asks
`current_pools` for a model still free (down or expiring), whose pools are where it is now, or
where it would be were it usable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from catalog.config.pools import POOL_NAMES
from catalog.ingest.normalize import ModelRecord
from catalog.output.modelfacts import matching_glob, size_of
from catalog.output.poolrecords import Profile
from catalog.output.pools import Pools, admits
from catalog.output.selectors import passes, pool_checks

# Measured up first: the order a tie between equally close models is broken in.
STATE_RANK = {"up": 0, "degraded": 1, "unknown": 2}


@dataclass(frozen=True, slots=True)
class Option:
    """A free model that is usable now (neither down nor refused by a recent probe, not a router),
    with what closeness is judged by."""

    id: str
    vendor: str
    size_b: float | None
    state_rank: int
    streak_days: float
    offered_alone: bool = True  # may be proposed outside a pool: a chat model no exclude names


def size_b_of(record: ModelRecord) -> float | None:
    """The total size in billions read from the record (id, name, Hugging Face id), or None."""
    return size_of(record).total_b


class Replacements:
    """Answers "what instead of this model?" from one state of the pools."""

    def __init__(self, pools: Mapping[str, Sequence[str]], options: Iterable[Option], home: Pools | None = None):
        self._options = {o.id: o for o in options}
        # Only usable models stay in a pool's list here, whatever the caller passed.
        self._pools = {name: [mid for mid in ids if mid in self._options] for name, ids in pools.items()}
        self._home = home

    def for_model(self, model_id: str, vendor: str, size_b: float | None, last_pools: Iterable[str]) -> str | None:
        """The replacement of `model_id` (of `vendor`, `size_b` billions or unknown), last in
        `last_pools`; None when no usable free model fits the rule."""
        for name in last_pools:
            for mid in self._pools.get(name, ()):
                if mid != model_id:
                    return mid
        return self.closest(model_id, vendor, size_b)

    def closest(self, model_id: str, vendor: str, size_b: float | None) -> str | None:
        """Step 2 of the rule alone: the closest usable model by vendor and size."""
        ranked = []
        for option in self._options.values():
            distance = size_distance(size_b, option.size_b)
            other_vendor = option.vendor != vendor
            if option.id == model_id or not option.offered_alone or (other_vendor and distance is None):
                continue
            far = math.inf if distance is None else distance
            ranked.append(((other_vendor, far, option.state_rank, -option.streak_days, option.id), option.id))
        return min(ranked)[1] if ranked else None

    def current_pools(self, model_id: str) -> tuple[str, ...]:
        """The pools a model free now is in, or, when it is kept out (down, blocked by a probe),
        those that would take it were it usable; () for a model not free now."""
        pools = self._home
        if pools is None or model_id not in pools.profiles:
            return ()
        now = tuple(name for name in pools.pools if model_id in pools.ids(name))
        if now:
            return now
        profile, config = pools.profiles[model_id], pools.config
        if matching_glob(model_id, config.exclude) or profile.router or profile.skip:
            return ()
        taken = []
        for name in config.names:
            spec = config.pool(name)
            if spec.exclude and matching_glob(model_id, spec.exclude):
                continue
            checks = pool_checks(name, spec)
            if (name not in POOL_NAMES or admits(name, profile, config.rules)[0]) and (
                not checks or passes(checks, profile)
            ):
                taken.append(name)
        return tuple(taken)


def size_distance(wanted: float | None, offered: float | None) -> float | None:
    """How far two sizes are apart, by ratio; None when either is unknown (or not positive)."""
    if wanted is None or offered is None or wanted <= 0 or offered <= 0:
        return None
    return abs(math.log(offered / wanted))


def option_of(profile: Profile, exclude: tuple[str, ...]) -> Option:
    return Option(
        id=profile.id,
        vendor=profile.record.vendor,
        size_b=profile.size.total_b,
        state_rank=STATE_RANK.get(profile.health.state, len(STATE_RANK)),
        streak_days=profile.streak_days,
        offered_alone=profile.skip is None and profile.writes_text_only and not matching_glob(profile.id, exclude),
    )


def build_replacements(pools: Pools) -> Replacements:
    """The replacements as the newest pools (and the free models and health they were built from) say."""
    exclude = pools.config.exclude
    options = [option_of(p, exclude) for p in pools.profiles.values() if p.unusable is None and p.router is None]
    return Replacements({name: pools.ids(name) for name in pools.pools}, options, home=pools)
