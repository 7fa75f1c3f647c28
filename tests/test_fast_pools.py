"""The speed-ups in building pools and page data must not change a byte: on random
and hostile catalogs, health and configs, the pools built by ranking on points with explanations
written on demand equal those of the old rule (every model judged with its reasons, every
candidate scored with its explained signals, all of them sorted), decision for decision; glob
matching through one regex equals fnmatch glob by glob; the shared health facts equal the
per-model ones."""

from __future__ import annotations

import math
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase

import pytest

from catalog.config.loader import parse_config
from catalog.config.pools import POOL_NAMES, PoolConfig
from catalog.ingest.normalize import ModelRecord
from catalog.output import scoring
from catalog.output.health_view import availability_views, health_facts, health_views
from catalog.output.modelfacts import first_word, matching_glob
from catalog.output.poolrecords import Decision
from catalog.output.pools import admits, build_pools
from catalog.output.selectors import LEFT_OUT, pool_checks, verdict
from catalog.state import FreeModel, ModelHealth, ProbeRecord, Snapshot

T0 = datetime(2026, 1, 24, 8, 0, tzinfo=UTC)
STEMS = (
    "gemma",
    "llama",
    "qwen3-coder",
    "devstral",
    "flash",
    "mini",
    "pro",
    "ultra",
    "guard",
    "embed",
    "x",
    "max",
    "codestral",
    "nano",
    "rerank",
    "café",
    "日本",
    "a[b]",
    "star*",
    "q?",
)
SIZES = ("", "-7b", "-70b", "-405b", "-80b-a3b", "-8x7b", "-1.2b", "-32b", "-33b", "-30b-a3b", "-e4b")
GLOBS = (
    "google/*",
    "*-7b*",
    "*mini*",
    "~*",
    "openrouter/*",
    "*[ab]*",
    "*[!x]",
    "q?en/*",
    "*\\*",
    "[",
    "*",
    "*coder*",
    "A*",
    "*:FREE",
)
OUTCOMES = ("ok", "unavailable", "blocked_by_account", "gated", "rate_limited")


# ---------------------------------------------------------------- random registries


def random_model(rng: random.Random, i: int) -> FreeModel:
    vendor = rng.choice(("google", "qwen", "openrouter", "~anthropic", "mistralai", "Odd|Vendor"))
    mid = f"{vendor}/{rng.choice(STEMS)}{rng.choice(SIZES)}-{i}{rng.choice((':free', ':free', ''))}"
    record = ModelRecord(
        id=mid,
        name=rng.choice(
            (None, f"{vendor}: {rng.choice(STEMS)} {rng.choice(('70B', '8B', '', 'A3B 30B'))}", "x | `y`\n")
        ),
        context_length=rng.choice((None, 4096, 8192, 32768, 131072, 200000, 1048576, 3000000)),
        top_context_length=rng.choice((None, 65536)),
        input_modalities=tuple(sorted(rng.choice(((), ("text",), ("image", "text"), ("image",), ("audio", "text"))))),
        output_modalities=tuple(sorted(rng.choice(((), ("text",), ("text",), ("image", "text"), ("image",))))),
        supported_parameters=tuple(
            sorted(rng.sample(("tools", "reasoning", "include_reasoning", "seed"), rng.randint(0, 3)))
        ),
        expiration_date=rng.choice((None, None, None, "2026-02-01", "2026-01-01", "2027-01-01", "junk", "2026-02-30")),
        hugging_face_id=rng.choice((None, "org/Thing-30B-A3B", "org/x")),
    )
    since = T0 - timedelta(days=rng.choice((0, 0.5, 1, 3.7, 30, 400)), hours=rng.randint(0, 23))
    return FreeModel(
        record=record,
        first_seen_free=since - timedelta(days=rng.randint(0, 3)),
        free_since=since,
        times_removed=rng.choice((0, 0, 1, 2, 5)),
    )


def random_health(rng: random.Random, mid: str) -> ModelHealth:
    probe = None
    if rng.random() < 0.4:
        probe = ProbeRecord(
            mid, rng.choice(OUTCOMES), T0 - timedelta(hours=rng.choice((1, 23, 25, 100))), ttft_ms=812.5
        )
    known = rng.choice((0, 3, 50))
    return ModelHealth(
        state=rng.choice(("up", "degraded", "down", "unknown")),
        status=rng.choice((None, 0, -5)),
        endpoints=rng.choice((None, 0, 3)),
        uptime_1d=rng.choice((None, 99.82)),
        latency_p50_ms=rng.choice((None, 500.0, 2000.0, 2500.5)),
        sampled_at=rng.choice((None, T0)),
        known_7d=known,
        availability_7d=rng.choice((None, 0.94, 0.95, 1.0)) if known else None,
        last_probe=probe,
    )


def random_snapshot(seed: int) -> Snapshot:
    rng = random.Random(seed)
    models = {m.id: m for m in (random_model(rng, i) for i in range(rng.choice((0, 1, 5, 40, 150))))}
    ordered = tuple(sorted(models.values(), key=lambda m: m.id))
    health = {m.id: random_health(rng, m.id) for m in ordered if rng.random() < 0.6}
    return Snapshot(
        models=ordered,
        observed_at=rng.choice((T0, T0, None)),
        last_changed_at=T0,
        source="x",
        recent_events=(),
        health=health,
        health_at=rng.choice((None, T0, T0 + timedelta(hours=30))),
    )


def random_config(rng: random.Random, ids: list[str]) -> PoolConfig:
    def pins() -> list[str]:
        return [rng.choice(ids) for _ in range(rng.randint(0, 3))] + ["gone/model:free"] if ids else []

    def globs() -> list[str]:
        return rng.sample(GLOBS, rng.randint(0, 2))

    pools: dict = {"cap": rng.choice((1, 2, 5, 100)), "exclude": globs()}
    for name in POOL_NAMES:
        pools[name] = {
            "pin": pins(),
            "exclude": globs(),
            "order": rng.choice(("score", "context", "size", "free_since")),
        }
    pools["CODE"].update(rng.choice(({}, {"tools": True}, {"min_context": 9000, "cap": 2})))
    pools["MINE"] = {
        "pin": pins(),
        "max_b": rng.choice((8, 40)),
        "unknown_size": rng.choice(("assume", "include", "exclude")),
    }
    pools["BIG"] = {"min_b": 70, "reasoning": True, "unknown_size": "include", "vendors": ["google", "qwen"]}
    pools["IMG"] = {
        "input": ["image"],
        "output": rng.choice((["text"], ["image", "text"])),
        "include": globs() or ["*"],
    }
    pools["LONG"] = {"min_context": 200000, "tools": False}
    rules = {
        "code_fill": rng.choice((0, 3, 9)),
        "code_only": rng.random() < 0.7,
        "routers": globs() or ["~*"],
        "probe_hours": rng.choice((1, 24, 200)),
        "fast_latency_ms": rng.choice((600, 2000)),
    }
    return parse_config({"pools": pools, "rules": rules})


def cases():
    for seed in range(40):
        snapshot = random_snapshot(seed)
        rng = random.Random(1000 + seed)
        ids = [m.id for m in snapshot.models]
        yield snapshot, PoolConfig()
        yield snapshot, random_config(rng, ids)


# ---------------------------------------------------------------- the old rule, kept here to compare


def old_glob(model_id: str, globs: tuple[str, ...]) -> str | None:
    low = model_id.lower()
    return next((g for g in globs if fnmatchcase(low, g.lower())), None)


def old_left_out(pool: str, p, config: PoolConfig) -> str | None:
    if glob := old_glob(p.id, config.exclude):
        return f"excluded by pools.exclude '{glob}'"
    if glob := old_glob(p.id, config.pool(pool).exclude):
        return f"excluded by pools.{pool}.exclude '{glob}'"
    if p.unusable is not None:
        return p.unusable
    if p.router is not None:
        return f"router or alias (rules.routers '{p.router}')"
    if p.skip is not None:
        return f"not a chat model (rules.skip_words '{p.skip}')"
    return None


def old_points(pool: str, p, config: PoolConfig) -> list[float]:
    """Every signal's points as the old score() made them, one rounded Signal after another."""
    rules, spec = config.rules, config.pool(pool)
    ceilings = [rules.small_max_b] if pool == "SMALL" else []
    size_b = min([p.assumed_b, *ceilings, *([spec.max_b] if spec.max_b else [])])
    context = p.record.context_length or p.record.top_context_length
    h = p.health
    health = 0.0
    if h.state == "degraded":
        health -= rules.degraded_points
    if h.availability_7d is not None:
        health += rules.availability_points if h.availability_7d >= rules.availability_min else 0.0
    speed = pool == "SMALL" or (pool not in POOL_NAMES and spec.max_b is not None)
    fast = h.latency_p50_ms is not None and speed and h.latency_p50_ms <= rules.fast_latency_ms
    s = scoring
    reasoning = s.REASONING_POINTS[pool] if pool in POOL_NAMES else (0.0 if spec.max_b else s.CUSTOM_REASONING_POINTS)
    raw = [
        max(0.0, math.log2(size_b)),
        0.0
        if not context or context <= s.CONTEXT_BASE
        else min(math.log2(context / s.CONTEXT_BASE), s.CONTEXT_MAX_POINTS),
        s.TOOLS_POINTS if p.tools else 0.0,
        reasoning if p.reasoning else 0.0,
        min(math.log2(1 + p.streak_days), s.STREAK_MAX_POINTS),
        -min(s.REMOVAL_POINTS * p.times_removed, s.REMOVAL_MAX_POINTS),
        -s.EXPIRY_POINTS if p.expires else 0.0,
        health,
        rules.fast_latency_points if fast else 0.0,
    ]
    return [round(x, 2) + 0.0 for x in raw]


def old_order(order: str):
    def context(e) -> int:
        return e["p"].record.context_length or e["p"].record.top_context_length or 0

    return {
        "score": lambda e: (-e["score"], e["p"].id),
        "context": lambda e: (-context(e), e["p"].id),
        "size": lambda e: (-(e["p"].size.total_b or 0.0), e["p"].id),
        "free_since": lambda e: (e["p"].model.free_since, e["p"].id),
    }[order]


def old_pool(name: str, profiles: dict, config: PoolConfig) -> tuple[list[tuple], list[Decision]]:
    """The chosen (id, score, why, pinned, filler) and every decision of one pool, eagerly, as the
    old build_pool made them."""
    spec, rules = config.pool(name), config.rules
    checks = pool_checks(name, spec)

    def scored(p, why, **flags):
        return {"p": p, "score": round(sum(old_points(name, p, config)), 2), "why": why, **flags}

    pinned, missing = [], []
    for mid in dict.fromkeys(spec.pin):
        p = profiles.get(mid)
        if p is None:
            missing.append(Decision(mid, "missing", f"pinned by pools.{name}.pin, but not free now"))
        elif glob := old_glob(mid, config.exclude):
            missing.append(Decision(mid, "left out", f"pinned, but excluded by pools.exclude '{glob}'"))
        elif glob := old_glob(mid, spec.exclude):
            missing.append(Decision(mid, "left out", f"pinned, but excluded by pools.{name}.exclude '{glob}'"))
        elif p.unusable is not None:
            missing.append(Decision(mid, "left out", f"pinned, but {p.unusable}"))
        else:
            pinned.append(scored(p, f"pinned by pools.{name}.pin", pinned=True))
    taken = {e["p"].id for e in pinned}
    candidates, rejected = [], {}
    for p in profiles.values():
        if p.id in taken:
            continue
        if reason := old_left_out(name, p, config):
            rejected[p.id] = (reason, (LEFT_OUT,))
            continue
        judged = verdict(checks, p, admits(name, p, rules) if name in POOL_NAMES else None)
        if judged.ok:
            candidates.append(scored(p, judged.why))
        else:
            rejected[p.id] = (judged.why, judged.failed)
    ordered = pinned + sorted(candidates, key=old_order(spec.order))
    if name == "CODE" and (need := rules.code_fill - len(ordered)) > 0:
        have = {e["p"].id for e in ordered}
        why = f"fills CODE up to {rules.code_fill} (rules.code_fill): a LARGE model, not a coding one"
        fill = [
            scored(p, why, filler=True)
            for p in profiles.values()
            if p.id not in have
            and not old_left_out("CODE", p, config)
            and not old_left_out("LARGE", p, config)
            and admits("LARGE", p, rules)[0]
            and verdict(checks, p, None).ok
        ]
        fill = sorted(fill, key=old_order(spec.order))[:need]
        for e in fill:
            rejected.pop(e["p"].id, None)
        ordered += fill
    cap = config.cap_of(name)
    chosen = [(e["p"].id, e["score"], e["why"], e.get("pinned", False), e.get("filler", False)) for e in ordered[:cap]]
    made = [Decision(e["p"].id, "chosen", e["why"], i, e["score"]) for i, e in enumerate(ordered[:cap], 1)]
    made += [
        Decision(e["p"].id, "cut", f"{e['why']}; ranked {i} of {len(ordered)}, below the cap of {cap}", i, e["score"])
        for i, e in enumerate(ordered[cap:], cap + 1)
    ]
    made += [Decision(mid, "left out", why, failed=failed) for mid, (why, failed) in sorted(rejected.items())]
    return chosen, made + missing


# ---------------------------------------------------------------- the checks


def test_pools_equal_the_old_rule_decision_for_decision():
    pools_seen = chosen_seen = 0
    for snapshot, config in cases():
        pools = build_pools(snapshot, config)
        for name, entries in pools.pools.items():
            chosen, decisions = old_pool(name, pools.profiles, config)
            assert [(e.id, e.score, e.why, e.pinned, e.filler) for e in entries] == chosen, name
            assert pools.explanations[name] == decisions, name
            for e in entries:
                assert [s.points for s in e.signals] == old_points(name, e.profile, config)
                assert sum(s.points for s in e.signals) == pytest.approx(e.score, abs=0.006)
            pools_seen += 1
            chosen_seen += len(entries)
    assert pools_seen > 300 and chosen_seen > 500  # the cases reach far: not empty pools only


def test_explanations_are_written_once_and_equal_the_eager_ones():
    snapshot = random_snapshot(7)
    pools = build_pools(snapshot, PoolConfig())
    assert set(pools.explanations) == set(pools.pools) and len(pools.explanations) == len(pools.pools)
    first = pools.explanations["SMALL"]
    assert pools.explanations["SMALL"] is first  # kept, not made again
    assert dict(pools.explanations) == {name: old_pool(name, pools.profiles, PoolConfig())[1] for name in pools.pools}


def test_one_regex_for_all_globs_matches_as_fnmatch_does_glob_by_glob():
    rng = random.Random(14)
    alphabet = "abAB/:-*?[]!\\.~x日"
    for _ in range(3000):
        globs = tuple("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(1, 4)))
        model_id = "".join(rng.choice(alphabet.replace("*", "").replace("?", "")) for _ in range(rng.randint(0, 8)))
        assert matching_glob(model_id, globs) == old_glob(model_id, globs), (model_id, globs)
    for globs in (GLOBS, ("*",), ("[",), ("a*", "a*")):
        for model_id in ("google/gemma-7b:free", "A/b", "[", "q1en/x", "x\\*", "", "~alias"):
            assert matching_glob(model_id, globs) == old_glob(model_id, globs), (model_id, globs)


def test_one_regex_for_all_words_finds_the_word_the_word_set_finds():
    rng = random.Random(15)
    pieces = ("mini", "pro", "a", "b1", "guard", "x-y", "", "é", "Max", "0", " ", "-", "/", ".", "_", "日")
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        wanted = tuple(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        words = {w for w in re.split(r"[^a-z0-9]+", text) if w}
        assert first_word(wanted, text) == next((w for w in wanted if w in words), None), (wanted, text)


def test_shared_health_facts_equal_each_model_s_own():
    for seed in range(20):
        snapshot = random_snapshot(seed)
        snapshot = replace(
            snapshot, health={**snapshot.health, **({snapshot.models[0].id: ModelHealth()} if snapshot.models else {})}
        )
        shared = health_views(snapshot)
        assert list(shared) == [m.id for m in snapshot.models]
        for m in snapshot.models:
            assert shared[m.id] == health_facts(snapshot.health.get(m.id))
        rows = availability_views(shared)["rows"]
        assert [r["id"] for r in rows] == sorted(
            (m.id for m in snapshot.models),
            key=lambda mid: ({"up": 0, "degraded": 1, "down": 2, "unknown": 3}[shared[mid]["state"]], mid),
        )
