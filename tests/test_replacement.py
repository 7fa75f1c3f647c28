"""The replacement rule (catalog/output/replacement.py) on small hand-made inputs: the pool the
model was last in first, then the closest by vendor and size, then none; never a model that is
down, refused by a probe, a router, or not free now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from catalog.config.loader import parse_config
from catalog.config.pools import PoolConfig
from catalog.ingest.normalize import ModelRecord
from catalog.output.pools import build_pools
from catalog.output.replacement import Option, Replacements, build_replacements, size_b_of, size_distance
from catalog.state import FreeModel, ModelHealth, ProbeRecord, Snapshot

T0 = datetime(2026, 1, 24, 8, 0, tzinfo=UTC)


def option(mid, size=None, *, state_rank=2, streak=10.0, alone=True):
    return Option(mid, mid.split("/")[0], size, state_rank, streak, alone)


def free(mid, *, outputs=("text",), since_days=10):
    record = ModelRecord(
        id=mid,
        context_length=131072,
        input_modalities=("text",),
        output_modalities=outputs,
        pricing=(("completion", "0"), ("prompt", "0")),
    )
    since = T0 - timedelta(days=since_days)
    return FreeModel(record=record, first_seen_free=since, free_since=since, times_removed=0)


def snapshot(*models, health=None):
    return Snapshot(
        models=tuple(sorted(models, key=lambda m: m.id)),
        observed_at=T0,
        last_changed_at=T0,
        source="test",
        recent_events=(),
        health=health or {},
        health_at=T0,
    )


# ---------------------------------------------------------------- the rule on plain options


def test_the_pool_it_was_last_in_comes_first():
    pools = {"SMALL": ["a/small-7b:free", "b/tiny-3b:free"], "CODE": ["c/coder-32b:free", "a/other-30b:free"]}
    options = [option(i) for ids in pools.values() for i in ids] + [option("z/gone-like-32b:free", 32)]
    rep = Replacements(pools, options)
    # The vendor-and-size neighbour exists, but the pool decides first, in its own order.
    assert rep.for_model("z/gone-32b:free", "z", 32, ["CODE"]) == "c/coder-32b:free"
    # Several last pools: the first of them (the config's order) that has a member.
    assert rep.for_model("z/gone-32b:free", "z", 32, ["MISSING", "SMALL", "CODE"]) == "a/small-7b:free"


def test_a_model_never_replaces_itself():
    rep = Replacements(
        {"CODE": ["c/coder-32b:free", "d/dev-24b:free"]}, [option("c/coder-32b:free"), option("d/dev-24b:free")]
    )
    assert rep.for_model("c/coder-32b:free", "c", 32, ["CODE"]) == "d/dev-24b:free"
    alone = Replacements({"CODE": ["c/coder-32b:free"]}, [option("c/coder-32b:free", 32)])
    assert alone.for_model("c/coder-32b:free", "c", 32, ["CODE"]) is None


def test_then_the_same_vendor_nearest_in_size():
    options = [
        option("q/q-4b:free", 4),
        option("q/q-30b:free", 30),
        option("q/q-235b:free", 235),
        option("m/m-24b:free", 24),
    ]
    rep = Replacements({}, options)
    assert rep.for_model("q/q-32b:free", "q", 32, []) == "q/q-30b:free"
    assert rep.for_model("q/q-3b:free", "q", 3, []) == "q/q-4b:free"
    # By ratio: 100B is nearer 235B (x2.35) than 30B (x3.3).
    assert rep.for_model("q/q-100b:free", "q", 100, []) == "q/q-235b:free"
    # The same vendor wins over a nearer size elsewhere.
    assert rep.for_model("q/q-24b:free", "q", 24, []) == "q/q-30b:free"
    # A pool the model was last in that is empty now falls through to vendor and size.
    assert rep.for_model("q/q-32b:free", "q", 32, ["CODE"]) == "q/q-30b:free"


def test_another_vendor_only_when_both_sizes_are_known():
    rep = Replacements({}, [option("m/m-24b:free", 24), option("n/unsized:free")])
    assert rep.for_model("x/x-27b:free", "x", 27, []) == "m/m-24b:free"
    assert rep.for_model("x/mystery:free", "x", None, []) is None
    # The same vendor with an unknown size is still a neighbour.
    assert Replacements({}, [option("x/other:free")]).for_model("x/mystery:free", "x", None, []) == "x/other:free"


def test_ties_go_to_the_measured_up_then_the_longer_streak_then_the_id():
    rep = Replacements({}, [option("q/b-8b:free", 8, state_rank=2), option("q/a-8b:free", 8, state_rank=1)])
    assert rep.for_model("q/gone-8b:free", "q", 8, []) == "q/a-8b:free"
    rep = Replacements({}, [option("q/a-8b:free", 8, streak=3), option("q/b-8b:free", 8, streak=30)])
    assert rep.for_model("q/gone-8b:free", "q", 8, []) == "q/b-8b:free"
    rep = Replacements({}, [option("q/b-8b:free", 8), option("q/a-8b:free", 8)])
    assert rep.for_model("q/gone-8b:free", "q", 8, []) == "q/a-8b:free"


def test_nothing_usable_means_none():
    assert Replacements({"SMALL": []}, []).for_model("a/x-7b:free", "a", 7, ["SMALL"]) is None


def test_a_pool_member_that_is_not_an_option_is_never_offered():
    # A pool list handed in with an id that is not free and usable now: skipped, not trusted.
    rep = Replacements({"SMALL": ["paid/model-7b", "a/ok-7b:free"]}, [option("a/ok-7b:free", 7)])
    assert rep.for_model("a/gone-7b:free", "a", 7, ["SMALL"]) == "a/ok-7b:free"


def test_only_chat_models_are_offered_outside_a_pool():
    rep = Replacements({"SMALL": ["g/guard-8b:free"]}, [option("g/guard-8b:free", 8, alone=False)])
    assert rep.for_model("g/gone-8b:free", "g", 8, []) is None
    assert rep.for_model("g/gone-8b:free", "g", 8, ["SMALL"]) == "g/guard-8b:free"


def test_size_distance_and_size_of_a_record():
    assert size_distance(7, 7) == 0
    assert size_distance(None, 7) is None and size_distance(7, None) is None and size_distance(0, 7) is None
    assert size_b_of(ModelRecord(id="q/qwen3-30b-a3b:free")) == 30
    assert size_b_of(ModelRecord(id="q/mystery:free")) is None


# ---------------------------------------------------------------- from real pools


def test_a_model_measured_down_is_never_a_replacement():
    snap = snapshot(
        free("q/q-30b:free"),
        free("q/q-14b:free"),
        health={"q/q-30b:free": ModelHealth(state="down", status=-5, endpoints=1, sampled_at=T0)},
    )
    rep = build_replacements(build_pools(snap, PoolConfig()))
    assert rep.for_model("q/q-32b:free", "q", 32, ["LARGE", "SMALL"]) == "q/q-14b:free"
    only_down = snapshot(
        free("q/q-30b:free"), health={"q/q-30b:free": ModelHealth(state="down", endpoints=0, sampled_at=T0)}
    )
    assert (
        build_replacements(build_pools(only_down, PoolConfig())).for_model("q/q-32b:free", "q", 32, ["SMALL"]) is None
    )


def test_a_model_a_recent_probe_found_unusable_is_never_a_replacement():
    probe = ProbeRecord("q/q-30b:free", "unavailable", T0 - timedelta(hours=1))
    snap = snapshot(free("q/q-30b:free"), free("q/q-14b:free"), health={"q/q-30b:free": ModelHealth(last_probe=probe)})
    rep = build_replacements(build_pools(snap, PoolConfig()))
    assert rep.for_model("q/q-32b:free", "q", 32, []) == "q/q-14b:free"


def test_routers_image_makers_and_excluded_models_are_not_offered_alone():
    snap = snapshot(
        free("openrouter/free"),
        free("q/q-8b:free", outputs=("image", "text")),
        free("q/q-9b:free"),
        free("q/q-7b:free"),
    )
    config = parse_config({"pools": {"exclude": ["q/q-9b:free"]}})
    rep = build_replacements(build_pools(snap, config))
    assert rep.for_model("q/q-8b-old:free", "q", 8, []) == "q/q-7b:free"
    assert rep.for_model("openrouter/gone", "openrouter", None, []) is None


def test_a_model_not_free_now_is_never_a_replacement():
    rep = build_replacements(build_pools(snapshot(free("q/q-14b:free")), PoolConfig()))
    # q/q-30b:free is not in the snapshot: whatever pools said before, it is not offered.
    assert rep.for_model("q/q-32b:free", "q", 32, ["SMALL"]) == "q/q-14b:free"
    assert (
        build_replacements(build_pools(snapshot(), PoolConfig())).for_model("q/q-32b:free", "q", 32, ["SMALL"]) is None
    )


def test_current_pools_of_a_free_model_even_when_it_is_down():
    snap = snapshot(
        free("q/q-30b:free"),
        free("q/q-7b:free"),
        health={"q/q-7b:free": ModelHealth(state="down", endpoints=0, sampled_at=T0)},
    )
    pools = build_pools(snap, PoolConfig())
    rep = build_replacements(pools)
    assert "q/q-30b:free" in pools.ids("SMALL")
    assert rep.current_pools("q/q-30b:free") == ("SMALL",)
    # Down: in no pool now, but SMALL would take it were it up; its replacement comes from there.
    assert "q/q-7b:free" not in pools.ids("SMALL")
    assert rep.current_pools("q/q-7b:free") == ("SMALL",)
    assert rep.for_model("q/q-7b:free", "q", 7, rep.current_pools("q/q-7b:free")) == "q/q-30b:free"
    assert rep.current_pools("q/never:free") == ()
