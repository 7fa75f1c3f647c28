"""Pools: classification rules, fallbacks for unknown sizes, ranking, config (pins, excludes,
caps, limits) and config validation. Snapshots are built by hand; nothing touches a database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog.config.loader import load_config, parse_config
from catalog.config.pools import POOL_NAMES, PoolConfig
from catalog.errors import CatalogError
from catalog.ingest.normalize import ModelRecord
from catalog.output.modelfacts import expires_soon, parse_size, size_of
from catalog.output.pools import build_pools
from catalog.state import FreeModel, Snapshot

T0 = datetime(2026, 1, 24, 8, 0, tzinfo=UTC)


def model(
    mid: str,
    name: str | None = None,
    *,
    ctx: int | None = 131072,
    inputs: tuple[str, ...] = ("text",),
    outputs: tuple[str, ...] = ("text",),
    params: tuple[str, ...] = (),
    since_days: float = 10,
    removed: int = 0,
    expires: str | None = None,
    hf: str | None = None,
    observed: datetime = T0,
) -> FreeModel:
    record = ModelRecord(
        id=mid,
        name=name,
        context_length=ctx,
        input_modalities=tuple(sorted(inputs)),
        output_modalities=tuple(sorted(outputs)),
        supported_parameters=tuple(sorted(params)),
        pricing=(("completion", "0"), ("prompt", "0")),
        expiration_date=expires,
        hugging_face_id=hf,
    )
    since = observed - timedelta(days=since_days)
    return FreeModel(record=record, first_seen_free=since, free_since=since, times_removed=removed)


def snapshot(*models: FreeModel, observed: datetime | None = T0) -> Snapshot:
    return Snapshot(
        models=tuple(sorted(models, key=lambda m: m.id)),
        observed_at=observed,
        last_changed_at=observed,
        source="https://openrouter.ai/api/v1/models",
        recent_events=(),
    )


def config(**doc) -> PoolConfig:
    return parse_config(doc)


def decision(pools, pool: str, mid: str):
    return next(d for d in pools.explanations[pool] if d.model_id == mid)


# A small catalog shaped like the seed's.
SEED_LIKE = (
    model(
        "google/gemini-2.0-flash-exp:free",
        "Google: Gemini 2.0 Flash Experimental (free)",
        ctx=1048576,
        inputs=("image", "text"),
        params=("tools",),
    ),
    model("google/gemma-3-27b-it:free", "Google: Gemma 3 27B (free)", inputs=("image", "text"), params=("tools",)),
    model("qwen/qwen3-4b:free", "Qwen: Qwen3 4B (free)", ctx=40960, params=("reasoning", "tools")),
    model("meta-llama/llama-3.1-405b-instruct:free", "Meta: Llama 3.1 405B Instruct (free)"),
    model("meta-llama/llama-3.3-70b-instruct:free", "Meta: Llama 3.3 70B Instruct (free)", params=("tools",)),
    model("qwen/qwen3-next-80b-a3b-instruct:free", "Qwen: Qwen3 Next 80B A3B Instruct (free)", ctx=262144),
    model("deepseek/deepseek-r1-0528:free", "DeepSeek: R1 0528 (free)", ctx=163840, params=("reasoning",)),
    model("qwen/qwen3-coder:free", "Qwen: Qwen3 Coder 480B A35B (free)", ctx=262000, params=("tools",)),
    model("mistralai/devstral-2512:free", "Mistral: Devstral 2 2512 (free)", ctx=262144, params=("tools",)),
    model(
        "qwen/qwen-2.5-vl-7b-instruct:free", "Qwen: Qwen2.5-VL 7B Instruct (free)", ctx=32768, inputs=("image", "text")
    ),
    model(
        "black-forest-labs/flux-painter:free",
        "Flux painter (free)",
        inputs=("image", "text"),
        outputs=("image", "text"),
    ),
    model("openrouter/free", "Free Models Router", ctx=200000, inputs=("image", "text"), params=("reasoning", "tools")),
)


# ---------------------------------------------------------------- reading sizes


@pytest.mark.parametrize(
    ("text", "total", "active"),
    [
        ("llama-3.1-405b-instruct", 405, None),
        ("gemma-3-27b-it", 27, None),
        ("qwen3-next-80b-a3b-instruct", 80, 3),
        ("Qwen3 Coder 480B A35B (free)", 480, 35),
        ("Gemma 4 26B A4B", 26, 4),
        ("mixtral-8x7b-instruct", 56, None),
        ("lfm-2.5-1.2b-instruct", 1.2, None),
        ("gpt-oss-120b", 120, None),
        ("qwen3-4b", 4, None),
        ("gemma-3n-e4b-it", None, None),  # "e4b" is an effective size, not a parameter count
        ("kimi-k2", None, None),
        ("deepseek-r1-0528", None, None),
        ("model-8bit-bf16", None, None),
    ],
)
def test_parse_size(text, total, active):
    size = parse_size(text)
    assert size.total_b == total
    assert size.active_b == active


def test_size_is_read_from_id_then_name_then_hugging_face_id():
    from_id = size_of(ModelRecord(id="v/thing-70b:free", name="Thing 7B", hugging_face_id="v/Thing-700B"))
    assert (from_id.total_b, from_id.source) == (70, "id")
    from_name = size_of(ModelRecord(id="qwen/qwen3-coder:free", name="Qwen3 Coder 480B A35B"))
    assert (from_name.total_b, from_name.active_b, from_name.source) == (480, 35, "name")
    from_hf = size_of(ModelRecord(id="v/nano:free", name="Nano", hugging_face_id="v/Nano-30B-A3B-BF16"))
    assert (from_hf.total_b, from_hf.source) == (30, "hugging_face_id")
    assert not size_of(ModelRecord(id="z-ai/glm-4.5-air:free", name="GLM 4.5 Air")).known


# ---------------------------------------------------------------- the rules


def test_default_pools_follow_the_rules():
    pools = build_pools(snapshot(*SEED_LIKE), PoolConfig())
    small, large, code, vision = (set(pools.ids(n)) for n in POOL_NAMES)
    assert {"google/gemma-3-27b-it:free", "qwen/qwen3-4b:free", "google/gemini-2.0-flash-exp:free"} <= small
    assert "meta-llama/llama-3.1-405b-instruct:free" in large
    assert "meta-llama/llama-3.1-405b-instruct:free" not in small
    # 80B total with 3B active: large in total, fast per token, so in both.
    assert "qwen/qwen3-next-80b-a3b-instruct:free" in candidates(pools, "SMALL")
    assert "qwen/qwen3-next-80b-a3b-instruct:free" in candidates(pools, "LARGE")
    assert {"qwen/qwen3-coder:free", "mistralai/devstral-2512:free"} <= code
    assert vision == {
        "google/gemini-2.0-flash-exp:free",
        "google/gemma-3-27b-it:free",
        "qwen/qwen-2.5-vl-7b-instruct:free",
    }


def candidates(pools, name):
    """Models the pool's rule takes, whether the cap kept them or not."""
    return {d.model_id for d in pools.explanations[name] if d.status in ("chosen", "cut")}


def test_pools_only_name_free_models_and_every_pool_has_every_model_explained():
    snap = snapshot(*SEED_LIKE)
    pools = build_pools(snap, config(pools={"SMALL": {"pin": ["gone/model:free"]}}))
    free = {m.id for m in snap.models}
    for name in POOL_NAMES:
        assert set(pools.ids(name)) <= free
        explained = [d.model_id for d in pools.explanations[name]]
        assert sorted(set(explained) - {"gone/model:free"}) == sorted(free)
        assert len(explained) == len(set(explained))
    missing = decision(pools, "SMALL", "gone/model:free")
    assert missing.status == "missing" and "not free now" in missing.reason


def test_vision_needs_image_input_and_text_output():
    pools = build_pools(snapshot(*SEED_LIKE), PoolConfig())
    assert "does not read images" in decision(pools, "VISION", "meta-llama/llama-3.3-70b-instruct:free").reason
    painter = "black-forest-labs/flux-painter:free"
    assert "writes image+text, not text only" in decision(pools, "VISION", painter).reason
    assert all(painter not in pools.ids(n) for n in POOL_NAMES)


def test_routers_are_left_out_by_default_and_can_be_let_in():
    pools = build_pools(snapshot(*SEED_LIKE), PoolConfig())
    assert all("openrouter/free" not in pools.ids(n) for n in POOL_NAMES)
    assert "router" in decision(pools, "VISION", "openrouter/free").reason
    let_in = build_pools(snapshot(*SEED_LIKE), config(rules={"routers": []}))
    assert "openrouter/free" in let_in.ids("VISION")


def test_alias_ids_and_classifiers_are_left_out():
    snap = snapshot(
        model("~google/gemini-flash-latest", "Google: Gemini Flash Latest", params=("tools",)),
        model("nvidia/nemotron-3.5-content-safety:free", "NVIDIA: Nemotron 3.5 Content Safety (free)"),
        model("google/gemma-3-27b-it:free", "Google: Gemma 3 27B (free)"),
    )
    pools = build_pools(snap, PoolConfig())
    assert pools.ids("SMALL") == ["google/gemma-3-27b-it:free"]
    assert "rules.skip_words 'safety'" in decision(pools, "SMALL", "nvidia/nemotron-3.5-content-safety:free").reason


def test_coding_models_stay_in_code_unless_configured_otherwise():
    snap = snapshot(*SEED_LIKE)
    pools = build_pools(snap, PoolConfig())
    assert "qwen/qwen3-coder:free" not in pools.ids("LARGE")
    assert "CODE only" in decision(pools, "LARGE", "qwen/qwen3-coder:free").reason
    shared = build_pools(snap, config(rules={"code_only": False}))
    assert "qwen/qwen3-coder:free" in shared.ids("LARGE")


def test_code_is_filled_from_large_when_few_coding_models_are_free():
    snap = snapshot(*[m for m in SEED_LIKE if m.id != "mistralai/devstral-2512:free"])
    pools = build_pools(snap, PoolConfig())
    entries = pools.pools["CODE"]
    assert entries[0].id == "qwen/qwen3-coder:free" and not entries[0].filler
    assert len(entries) == 3
    assert all(e.filler for e in entries[1:])
    assert all(e.id in pools.profiles and pools.profiles[e.id].large[0] for e in entries[1:])
    assert "rules.code_fill" in decision(pools, "CODE", entries[1].id).reason
    no_fill = build_pools(snap, config(rules={"code_fill": 0}))
    assert no_fill.ids("CODE") == ["qwen/qwen3-coder:free"]


def test_mid_sized_models_are_explained_not_silently_dropped():
    snap = snapshot(model("v/mid-49b:free", "Mid 49B"))
    pools = build_pools(snap, PoolConfig())
    assert pools.ids("SMALL") == pools.ids("LARGE") == []
    assert "49B total > 32B" in decision(pools, "SMALL", "v/mid-49b:free").reason
    assert "49B total < 70B" in decision(pools, "LARGE", "v/mid-49b:free").reason


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (model("v/something-flash:free", "Something Flash", params=("reasoning",), ctx=1_000_000), "SMALL"),
        (model("v/trinity-large-preview:free", "Trinity Large Preview"), "LARGE"),
        (model("v/thinker:free", "Thinker", params=("reasoning",), ctx=163840), "LARGE"),
        (model("v/thinker-short:free", "Thinker", params=("reasoning",), ctx=32768), "SMALL"),
        (model("v/plain:free", "Plain", ctx=None), "SMALL"),
    ],
)
def test_unknown_sizes_are_placed_by_the_fallbacks(m, expected):
    pools = build_pools(snapshot(m), PoolConfig())
    other = "LARGE" if expected == "SMALL" else "SMALL"
    assert pools.ids(expected) == [m.id]
    assert pools.ids(other) == []
    assert "size unknown" in decision(pools, expected, m.id).reason
    assert "size unknown" in decision(pools, other, m.id).reason


def test_size_limits_come_from_the_config():
    snap = snapshot(*SEED_LIKE)
    pools = build_pools(snap, config(rules={"small_max_b": 10, "large_min_b": 400}))
    assert "google/gemma-3-27b-it:free" not in pools.ids("SMALL")
    assert "qwen/qwen3-4b:free" in pools.ids("SMALL")
    assert "meta-llama/llama-3.3-70b-instruct:free" not in pools.ids("LARGE")
    assert "meta-llama/llama-3.1-405b-instruct:free" in pools.ids("LARGE")


def test_code_patterns_come_from_the_config():
    snap = snapshot(model("v/bigbrain-70b:free", "BigBrain 70B"), model("v/qwen3-coder:free", "Qwen3 Coder"))
    pools = build_pools(snap, config(rules={"code_patterns": ["BigBrain"], "code_fill": 0}))
    assert pools.ids("CODE") == ["v/bigbrain-70b:free"]


# ---------------------------------------------------------------- ranking


def test_order_is_deterministic_and_ties_break_by_id():
    twins = [model(f"v/twin-{c}-27b:free", f"Twin {c} 27B") for c in "dbca"]
    models = list(SEED_LIKE) + twins
    first = build_pools(snapshot(*models), config(pools={"cap": 50}))
    random.Random(7).shuffle(models)
    shuffled = Snapshot(models=tuple(models), observed_at=T0, last_changed_at=T0, source=None, recent_events=())
    second = build_pools(shuffled, config(pools={"cap": 50}))
    assert first.pools == second.pools
    assert first.explanations == second.explanations
    twin_order = [i for i in first.ids("SMALL") if "twin" in i]
    assert twin_order == sorted(twin_order)


def test_signals_raise_and_lower_the_rank():
    snap = snapshot(
        model("v/steady-27b:free", "Steady 27B", since_days=30),
        model("v/flaky-27b:free", "Flaky 27B", since_days=30, removed=2),
        model("v/new-27b:free", "New 27B", since_days=0),
        model("v/tools-27b:free", "Tools 27B", since_days=0, params=("tools",)),
        model("v/expiring-27b:free", "Expiring 27B", since_days=30, expires="2026-02-01"),
    )
    pools = build_pools(snap, PoolConfig())
    order = pools.ids("SMALL")
    assert order.index("v/steady-27b:free") < order.index("v/flaky-27b:free")
    assert order.index("v/steady-27b:free") < order.index("v/new-27b:free")
    assert order.index("v/tools-27b:free") < order.index("v/new-27b:free")
    assert order.index("v/steady-27b:free") < order.index("v/expiring-27b:free")
    signals = {s.name: s.points for s in pools.pools["SMALL"][order.index("v/flaky-27b:free")].signals}
    assert signals["removals"] == -4.0


def test_streak_is_measured_against_the_registry_time_not_the_clock():
    old = datetime(2020, 1, 1, tzinfo=UTC)
    snap = snapshot(model("v/a-27b:free", "A 27B", since_days=3, observed=old), observed=old)
    streak = {s.name: s for s in build_pools(snap, PoolConfig()).pools["SMALL"][0].signals}["streak"]
    assert streak.points == 2.0  # log2(1 + 3 days), however long ago 2020 is
    no_time = snapshot(model("v/a-27b:free", "A 27B"), observed=None)
    assert build_pools(no_time, PoolConfig()).pools["SMALL"][0].signals[4].points == 0.0


def test_reasoning_counts_for_large_but_not_small():
    snap = snapshot(
        model("v/thinks-100b:free", "Thinks 100B", params=("reasoning",)),
        model("v/plain-120b:free", "Plain 120B"),
        model("v/thinks-20b:free", "Thinks 20B", params=("reasoning",)),
        model("v/plain-20b:free", "Plain 20B"),
    )
    pools = build_pools(snap, PoolConfig())
    assert pools.ids("LARGE")[0] == "v/thinks-100b:free"
    small = {e.id: e.score for e in pools.pools["SMALL"]}
    assert small["v/thinks-20b:free"] == small["v/plain-20b:free"]


def test_expiry_window():
    record = lambda d: ModelRecord(id="v/m:free", expiration_date=d)  # noqa: E731
    assert expires_soon(record("2026-02-20"), T0).isoformat() == "2026-02-20"
    assert expires_soon(record("2026-01-01"), T0) is not None  # already past: still a warning
    assert expires_soon(record("2026-03-01"), T0) is None
    assert expires_soon(record("2098-12-31"), T0) is None
    assert expires_soon(record("soon"), T0) is None
    assert expires_soon(record("2026-02-30"), T0) is None
    assert expires_soon(record(None), T0) is None


# ---------------------------------------------------------------- config: pins, excludes, caps


def test_pins_go_first_in_config_order_and_skip_the_rule():
    pins = ["meta-llama/llama-3.1-405b-instruct:free", "qwen/qwen3-4b:free"]
    pools = build_pools(snapshot(*SEED_LIKE), config(pools={"SMALL": {"pin": pins + pins}}))
    head = pools.pools["SMALL"][:2]
    assert [e.id for e in head] == pins
    assert all(e.pinned for e in head)
    assert pools.ids("SMALL").count("qwen/qwen3-4b:free") == 1
    assert "pinned by pools.SMALL.pin" in decision(pools, "SMALL", pins[0]).reason


def test_exclusion_beats_a_pin_and_works_by_glob():
    cfg = config(
        pools={
            "exclude": ["google/*"],
            "SMALL": {"pin": ["google/gemma-3-27b-it:free"]},
            "LARGE": {"exclude": ["*405b*"]},
        }
    )
    pools = build_pools(snapshot(*SEED_LIKE), cfg)
    assert all(not i.startswith("google/") for n in POOL_NAMES for i in pools.ids(n))
    assert "excluded by pools.exclude 'google/*'" in decision(pools, "SMALL", "google/gemma-3-27b-it:free").reason
    assert "meta-llama/llama-3.1-405b-instruct:free" not in pools.ids("LARGE")
    assert "pools.LARGE.exclude" in decision(pools, "LARGE", "meta-llama/llama-3.1-405b-instruct:free").reason


def test_caps_default_to_five_and_can_be_set_per_file_and_per_pool():
    many = [model(f"v/m{i:02d}-{i + 1}b:free", f"M {i + 1}B") for i in range(12)]
    assert len(build_pools(snapshot(*many), PoolConfig()).ids("SMALL")) == 5
    pools = build_pools(snapshot(*many), config(pools={"cap": 8, "SMALL": {"cap": 2}}))
    assert len(pools.ids("SMALL")) == 2
    cut_one = [d for d in pools.explanations["SMALL"] if d.status == "cut"]
    assert len(cut_one) == 10 and "below the cap of 2" in cut_one[0].reason
    assert cut_one[0].rank == 3


def test_pins_count_toward_the_cap():
    pins = ["qwen/qwen3-4b:free", "google/gemma-3-27b-it:free", "meta-llama/llama-3.3-70b-instruct:free"]
    pools = build_pools(snapshot(*SEED_LIKE), config(pools={"SMALL": {"pin": pins, "cap": 2}}))
    assert pools.ids("SMALL") == pins[:2]
    assert decision(pools, "SMALL", pins[2]).status == "cut"


# ---------------------------------------------------------------- config files


README_EXAMPLE = """
[pools]
cap = 5                                # models per pool
exclude = ["cognitivecomputations/*"]  # id globs left out of every pool

[pools.SMALL]                          # also [pools.LARGE], [pools.CODE], [pools.VISION]
pin = ["google/gemini-2.0-flash-exp:free"]  # exact ids put first, in this order, when free now
exclude = ["*-thinking:free"]          # id globs left out of this pool
cap = 4                                # this pool's cap

[rules]
small_max_b = 32                       # SMALL: at most this many billion (active) parameters
large_min_b = 70                       # LARGE: at least this many billion parameters in total
large_min_context = 100000             # size unknown: reasoning + this much context -> LARGE
small_words = ["mini", "nano", "flash", "lite", "small", "tiny", "micro", "xs"]
large_words = ["large", "ultra", "pro", "max"]
code_patterns = ["coder", "codestral", "devstral", "codex", "codegemma", "codellama"]
code_only = true                       # coding models stay out of SMALL and LARGE
code_fill = 3                          # fill CODE from LARGE up to this many models (0: never)
routers = ["openrouter/*", "~*"]       # id globs of routers and aliases, left out ([] lets them in)
skip_words = ["guard", "safety", "moderation", "embedding", "embed", "rerank"]
"""


def test_a_config_file_is_loaded(tmp_path):
    path = tmp_path / "pools.toml"
    path.write_text(README_EXAMPLE, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.source == path
    assert cfg.exclude == ("cognitivecomputations/*",)
    assert cfg.pool("SMALL").pin == ("google/gemini-2.0-flash-exp:free",)
    assert cfg.pool("SMALL").exclude == ("*-thinking:free",)
    assert cfg.cap_of("SMALL") == 4 and cfg.cap_of("LARGE") == 5
    assert cfg.rules == PoolConfig().rules  # the README shows the defaults


def test_catalog_toml_in_the_working_folder_is_the_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(None) == PoolConfig()
    (tmp_path / "catalog.toml").write_text("[pools]\ncap = 2\n", encoding="utf-8")
    assert load_config(None).cap == 2


def test_an_explicit_config_must_exist(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[pool]\ncap = 3\n", "`pool`"),
        ("[pools]\ncaps = 3\n", "`pools.caps`"),
        ("[pools.SMAL]\ncap = 3\n", "`pools.SMAL`"),
        ("[pools.SMALL]\npins = []\n", "`pools.SMALL.pins`"),
        ("[rules]\nsmall_max = 3\n", "`rules.small_max`"),
        ('[pools]\ncap = "5"\n', "`pools.cap`"),
        ("[pools]\ncap = 0\n", "`pools.cap`"),
        ("[pools]\ncap = true\n", "`pools.cap`"),
        ('[pools]\nexclude = "google/*"\n', "`pools.exclude`"),
        ("[pools.LARGE]\npin = [1, 2]\n", "`pools.LARGE.pin`"),
        ('[rules]\nsmall_max_b = "big"\n', "`rules.small_max_b`"),
        ("[rules]\nlarge_min_b = -1\n", "`rules.large_min_b`"),
        ('[rules]\ncode_only = "yes"\n', "`rules.code_only`"),
        ("[rules]\ncode_fill = -1\n", "`rules.code_fill`"),
        ("pools = 3\n", "`pools`"),
    ],
)
def test_config_mistakes_are_one_line_naming_the_key(tmp_path, text, key):
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_config(path)
    message = str(info.value)
    assert key in message
    assert "\n" not in message


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text("[pools\ncap = ", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_config(path)


def test_numbers_in_rules_may_be_integers_or_floats(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text("[rules]\nsmall_max_b = 7.5\nlarge_min_b = 100\ncode_fill = 0\n", encoding="utf-8")
    rules = load_config(path).rules
    assert (rules.small_max_b, rules.large_min_b, rules.code_fill) == (7.5, 100.0, 0)


def test_default_config_path_is_relative_to_the_working_folder(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "catalog.toml").write_text("[pools]\ncap = 9\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    assert load_config(None).cap == 5
    monkeypatch.chdir(tmp_path)
    assert load_config(None).source == Path("catalog.toml")
