"""What measured health does to the pools: exclusions with their reasons, and the score's health
points. Pure: snapshots with health built by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from test_pools import T0, model, snapshot

from catalog.config.loader import parse_config
from catalog.config.pools import PoolConfig
from catalog.output.pools import build_pools
from catalog.state import ModelHealth, ProbeRecord

SMALL_A, SMALL_B = "a/alpha-8b:free", "b/beta-8b:free"


def pools_with(health: dict[str, ModelHealth], config: PoolConfig | None = None, at=T0):
    snap = replace(snapshot(model(SMALL_A), model(SMALL_B)), health=health, health_at=at)
    return build_pools(snap, config or PoolConfig())


def reason(pools, pool: str, model_id: str) -> str:
    return next(d.reason for d in pools.explanations[pool] if d.model_id == model_id)


def signal(pools, pool: str, model_id: str, name: str):
    entry = next(e for e in pools.pools[pool] if e.id == model_id)
    return next(s for s in entry.signals if s.name == name)


def probe(outcome: str, hours_ago: float) -> ProbeRecord:
    return ProbeRecord(SMALL_A, outcome, T0 - timedelta(hours=hours_ago))


def test_unmeasured_health_neither_helps_nor_hurts():
    plain = pools_with({})
    assert plain.ids("SMALL") == [SMALL_A, SMALL_B]
    assert signal(plain, "SMALL", SMALL_A, "health").points == 0
    assert signal(plain, "SMALL", SMALL_A, "latency").points == 0


def test_a_model_measured_down_is_left_out_of_every_pool_with_the_reason():
    pools = pools_with({SMALL_A: ModelHealth(state="down", status=-5, endpoints=1, sampled_at=T0)})
    assert pools.ids("SMALL") == [SMALL_B]
    assert reason(pools, "SMALL", SMALL_A).startswith("down at the last health sample (status -5")


def test_a_pin_does_not_bring_back_a_model_that_is_down():
    config = parse_config({"pools": {"SMALL": {"pin": [SMALL_A]}}})
    pools = pools_with({SMALL_A: ModelHealth(state="down", endpoints=0, sampled_at=T0)}, config)
    assert pools.ids("SMALL") == [SMALL_B]
    reasons = [d.reason for d in pools.explanations["SMALL"] if d.model_id == SMALL_A]
    assert any(r.startswith("pinned, but down") for r in reasons), reasons


def test_a_recent_unusable_probe_excludes_for_probe_hours_only():
    for outcome in ("unavailable", "blocked_by_account", "gated"):
        pools = pools_with({SMALL_A: ModelHealth(state="up", last_probe=probe(outcome, 23))})
        assert pools.ids("SMALL") == [SMALL_B], outcome
        assert reason(pools, "SMALL", SMALL_A).startswith(f"last probe {outcome}")
    stale = pools_with({SMALL_A: ModelHealth(state="up", last_probe=probe("gated", 25))})
    assert SMALL_A in stale.ids("SMALL")
    busy = pools_with({SMALL_A: ModelHealth(state="up", last_probe=probe("rate_limited", 1))})
    assert SMALL_A in busy.ids("SMALL")  # a busy shared pool is not the model's fault
    longer = parse_config({"rules": {"probe_hours": 48}})
    assert pools_with({SMALL_A: ModelHealth(last_probe=probe("gated", 25))}, longer).ids("SMALL") == [SMALL_B]


def test_degraded_costs_points_and_high_availability_earns_some():
    good = ModelHealth(state="up", availability_7d=0.99, known_7d=20)
    poor = ModelHealth(state="degraded", availability_7d=0.90, known_7d=20)
    pools = pools_with({SMALL_A: poor, SMALL_B: good})
    assert pools.ids("SMALL") == [SMALL_B, SMALL_A]
    assert signal(pools, "SMALL", SMALL_A, "health").points == -3.0
    assert signal(pools, "SMALL", SMALL_B, "health").points == 2.0
    rules = parse_config({"rules": {"degraded_points": 1.5, "availability_points": 0.5}})
    tuned = pools_with({SMALL_A: poor, SMALL_B: good}, rules)
    assert signal(tuned, "SMALL", SMALL_A, "health").points == -1.5
    assert signal(tuned, "SMALL", SMALL_B, "health").points == 0.5


def test_a_measured_low_latency_helps_small_only():
    fast = ModelHealth(state="up", latency_p50_ms=600.0)
    pools = pools_with({SMALL_B: fast})
    assert pools.ids("SMALL")[0] == SMALL_B
    assert signal(pools, "SMALL", SMALL_B, "latency").points == 2.0
    slow = pools_with({SMALL_B: replace(fast, latency_p50_ms=5000.0)})
    assert signal(slow, "SMALL", SMALL_B, "latency").points == 0
