"""Custom pools from catalog.toml: each selector alone and combined, order, built-ins switched off
or narrowed, config errors naming the key, empty pools with their reason, the usage advice, and a
custom pool in every output (.md en/zh, .ts under tsc --strict, .json, `catalog pools`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_pools import SEED_LIKE, decision, model, snapshot
from test_render import (  # noqa: F401  (registry, tsc: fixtures)
    NEWEST,
    assert_fences_balanced,
    assert_tables_intact,
    capture_snapshot,
    registry,
    render_all,
    section,
    tsc,
)

from catalog.config.loader import load_config, parse_config
from catalog.config.pools import POOL_NAMES, PoolConfig
from catalog.errors import CatalogError
from catalog.output.pools import build_pools

SEED = snapshot(*SEED_LIKE)


def custom(cap: int = 20, **selectors) -> PoolConfig:
    return parse_config({"pools": {"X": {"cap": cap, **selectors}}})


def chosen(cfg: PoolConfig, snap=SEED, pool: str = "X") -> list[str]:
    return build_pools(snap, cfg).ids(pool)


def why_out(cfg: PoolConfig, mid: str, snap=SEED, pool: str = "X") -> str:
    d = decision(build_pools(snap, cfg), pool, mid)
    assert d.status == "left out", d
    return d.reason


# ---------------------------------------------------------------- each selector alone


def test_a_custom_pool_sits_after_the_built_ins_and_takes_text_models_by_default():
    cfg = custom(include=["*"])
    assert cfg.names == (*POOL_NAMES, "X")
    ids = chosen(cfg)
    assert "black-forest-labs/flux-painter:free" not in ids  # writes images
    assert "openrouter/free" not in ids  # a router, left out of every pool
    assert len(ids) == 10
    assert "not text only (pools.X.output unset)" in why_out(cfg, "black-forest-labs/flux-painter:free")


@pytest.mark.parametrize(
    ("selectors", "expected", "failing", "reason"),
    [
        (
            {"min_context": 200000},
            {
                "google/gemini-2.0-flash-exp:free",
                "qwen/qwen3-next-80b-a3b-instruct:free",
                "qwen/qwen3-coder:free",
                "mistralai/devstral-2512:free",
            },
            "deepseek/deepseek-r1-0528:free",
            "context 163840 < 200000 (pools.X.min_context)",
        ),
        (
            {"input": ["image"]},
            {"google/gemini-2.0-flash-exp:free", "google/gemma-3-27b-it:free", "qwen/qwen-2.5-vl-7b-instruct:free"},
            "qwen/qwen3-4b:free",
            "reads text, not image (pools.X.input)",
        ),
        (
            {"output": ["image"]},
            {"black-forest-labs/flux-painter:free"},
            "qwen/qwen3-4b:free",
            "writes text, not image (pools.X.output)",
        ),
        (
            {"tools": True},
            {
                "google/gemini-2.0-flash-exp:free",
                "google/gemma-3-27b-it:free",
                "qwen/qwen3-4b:free",
                "meta-llama/llama-3.3-70b-instruct:free",
                "qwen/qwen3-coder:free",
                "mistralai/devstral-2512:free",
            },
            "deepseek/deepseek-r1-0528:free",
            "no tool calls (pools.X.tools = true)",
        ),
        (
            {"tools": False},
            {
                "meta-llama/llama-3.1-405b-instruct:free",
                "qwen/qwen3-next-80b-a3b-instruct:free",
                "deepseek/deepseek-r1-0528:free",
                "qwen/qwen-2.5-vl-7b-instruct:free",
            },
            "qwen/qwen3-coder:free",
            "supports tool calls (pools.X.tools = false)",
        ),
        (
            {"reasoning": True},
            {"qwen/qwen3-4b:free", "deepseek/deepseek-r1-0528:free"},
            "qwen/qwen3-coder:free",
            "no reasoning (pools.X.reasoning = true)",
        ),
        (
            {"vendors": ["Qwen"]},
            {
                "qwen/qwen3-4b:free",
                "qwen/qwen3-next-80b-a3b-instruct:free",
                "qwen/qwen3-coder:free",
                "qwen/qwen-2.5-vl-7b-instruct:free",
            },
            "deepseek/deepseek-r1-0528:free",
            "vendor deepseek not in pools.X.vendors",
        ),
        (
            {"include": ["*-instruct:*", "*R1*"]},
            {
                "meta-llama/llama-3.1-405b-instruct:free",
                "meta-llama/llama-3.3-70b-instruct:free",
                "qwen/qwen3-next-80b-a3b-instruct:free",
                "qwen/qwen-2.5-vl-7b-instruct:free",
                "deepseek/deepseek-r1-0528:free",
            },
            "qwen/qwen3-coder:free",
            "id matches none of pools.X.include",
        ),
        (
            {"min_b": 70},  # total parameters; unknown sizes are left out unless told otherwise
            {
                "meta-llama/llama-3.1-405b-instruct:free",
                "meta-llama/llama-3.3-70b-instruct:free",
                "qwen/qwen3-next-80b-a3b-instruct:free",
                "qwen/qwen3-coder:free",
            },
            "google/gemma-3-27b-it:free",
            "27B total < 70B (pools.X.min_b)",
        ),
        (
            {"max_b": 10},  # active parameters for a mixture of experts, as SMALL counts them
            {"qwen/qwen3-4b:free", "qwen/qwen3-next-80b-a3b-instruct:free", "qwen/qwen-2.5-vl-7b-instruct:free"},
            "google/gemma-3-27b-it:free",
            "27B total > 10B (pools.X.max_b)",
        ),
    ],
)
def test_each_selector_alone(selectors, expected, failing, reason):
    cfg = custom(**selectors)
    assert set(chosen(cfg)) == expected
    assert reason in why_out(cfg, failing)


def test_unknown_sizes_are_handled_as_the_config_says():
    unknown = "deepseek/deepseek-r1-0528:free"  # no size anywhere; reasoning and 164K context: LARGE
    out = custom(min_b=70)
    assert "size unknown, left out by pools.X.unknown_size = 'exclude' (pools.X.min_b 70B)" in why_out(out, unknown)
    assert unknown in chosen(custom(min_b=70, unknown_size="include"))
    assert unknown in chosen(custom(min_b=70, unknown_size="assume"))  # assumed the LARGE floor, 70B
    assumed = why_out(custom(max_b=32, unknown_size="assume"), unknown)
    assert assumed.startswith("size unknown, taken as 70B by pools.X.unknown_size = 'assume' (reasoning and context")
    assert "mean LARGE): 70B > 32B (pools.X.max_b)" in assumed
    flash = "google/gemini-2.0-flash-exp:free"  # 'flash' -> SMALL -> assumed 32B
    assert flash in chosen(custom(max_b=32, unknown_size="assume"))
    assert flash not in chosen(custom(min_b=70, unknown_size="assume"))


# ---------------------------------------------------------------- combined


def test_selectors_combine_and_explain_names_every_one_that_failed():
    cfg = custom(vendors=["qwen", "deepseek"], min_context=100000, tools=True, include=["*:free"], min_b=70)
    assert chosen(cfg) == ["qwen/qwen3-coder:free"]
    reason = why_out(cfg, "qwen/qwen3-4b:free")
    for part in ("context 40960 < 100000 (pools.X.min_context)", "4B total < 70B (pools.X.min_b)"):
        assert part in reason
    many = why_out(cfg, "meta-llama/llama-3.1-405b-instruct:free")
    assert "pools.X.vendors" in many and "pools.X.tools" in many and "pools.X.min_b" not in many
    picked = decision(build_pools(SEED, cfg), "X", "qwen/qwen3-coder:free")
    assert picked.status == "chosen"
    assert "vendor qwen" in picked.reason and "supports tool calls" in picked.reason


def test_pins_excludes_cap_and_order():
    base = {"min_context": 100000, "exclude": ["mistralai/*"], "cap": 3}
    by_context = chosen(parse_config({"pools": {"X": {**base, "order": "context"}}}))
    assert by_context == [
        "google/gemini-2.0-flash-exp:free",
        "qwen/qwen3-next-80b-a3b-instruct:free",
        "qwen/qwen3-coder:free",
    ]
    by_size = chosen(parse_config({"pools": {"X": {**base, "order": "size"}}}))
    assert by_size == [
        "qwen/qwen3-coder:free",
        "meta-llama/llama-3.1-405b-instruct:free",
        "qwen/qwen3-next-80b-a3b-instruct:free",
    ]
    older = model("zz/old-timer-8b:free", ctx=131072, since_days=90)
    by_age = chosen(parse_config({"pools": {"X": {**base, "order": "free_since"}}}), snapshot(*SEED_LIKE, older))
    assert by_age[0] == "zz/old-timer-8b:free"
    pinned = parse_config({"pools": {"X": {**base, "order": "size", "pin": ["qwen/qwen3-4b:free"]}}})
    assert chosen(pinned)[0] == "qwen/qwen3-4b:free"  # a pin skips the selectors and comes first
    assert len(chosen(pinned)) == 3
    assert "mistralai/devstral-2512:free" not in chosen(parse_config({"pools": {"X": {**base, "cap": 20}}}))


def test_custom_pool_scores_reasoning_unless_it_asks_for_speed():
    pools = build_pools(SEED, parse_config({"pools": {"R": {"reasoning": True}, "F": {"reasoning": True, "max_b": 8}}}))
    r1 = next(e for e in pools.pools["R"] if e.id == "qwen/qwen3-4b:free")
    fast = next(e for e in pools.pools["F"] if e.id == "qwen/qwen3-4b:free")
    points = {s.name: s.points for s in r1.signals}
    assert points["reasoning"] == 2.0
    assert {s.name: s.points for s in fast.signals}["reasoning"] == 0.0
    big = build_pools(SEED, parse_config({"pools": {"F": {"max_b": 8, "unknown_size": "include"}}}))
    flash = next(e for e in big.pools["F"] if e.id == "google/gemini-2.0-flash-exp:free")
    assert {s.name: s.points for s in flash.signals}["size"] == 3.0  # counted up to max_b, 8B


# ---------------------------------------------------------------- built-ins


def test_a_built_in_can_be_switched_off_and_the_order_set():
    cfg = parse_config(
        {"pools": {"order": ["LONG", "CODE"], "VISION": {"enabled": False}, "LONG": {"min_context": 200000}}}
    )
    assert cfg.names == ("LONG", "CODE", "SMALL", "LARGE")
    pools = build_pools(SEED, cfg)
    assert list(pools.pools) == ["LONG", "CODE", "SMALL", "LARGE"]
    assert "VISION" not in pools.explanations


def test_a_built_in_keeps_its_rule_and_extra_selectors_narrow_it():
    plain = chosen(PoolConfig(), pool="SMALL")
    narrowed = parse_config({"pools": {"SMALL": {"tools": True, "max_b": 10}}})
    ids = chosen(narrowed, pool="SMALL")
    assert ids and set(ids) < set(plain)
    assert ids == ["qwen/qwen3-4b:free"]
    reason = why_out(narrowed, "meta-llama/llama-3.1-405b-instruct:free", pool="SMALL")
    # the built-in rule first, then every selector that failed
    assert (
        reason.startswith("405B total > 32B (rules.small_max_b)")
        and "no tool calls (pools.SMALL.tools = true)" in reason
    )
    # CODE fillers (LARGE models) must pass CODE's selectors too
    code = chosen(parse_config({"pools": {"CODE": {"tools": True}}}), pool="CODE")
    assert "meta-llama/llama-3.1-405b-instruct:free" not in code
    assert "meta-llama/llama-3.3-70b-instruct:free" in code


# ---------------------------------------------------------------- config errors


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[pools.LONG]\nmin_ctx = 5\n", "`pools.LONG.min_ctx`"),
        ("[pools.long]\nmin_context = 5\n", "`pools.long`"),
        ('[pools.LONG]\nmin_context = "big"\n', "`pools.LONG.min_context`"),
        ("[pools.LONG]\nmin_context = 0\n", "`pools.LONG.min_context`"),
        ('[pools.LONG]\ninput = ["smell"]\n', "`pools.LONG.input`"),
        ('[pools.LONG]\noutput = "text"\n', "`pools.LONG.output`"),
        ('[pools.LONG]\ntools = "yes"\n', "`pools.LONG.tools`"),
        ("[pools.LONG]\nreasoning = 1\n", "`pools.LONG.reasoning`"),
        ('[pools.LONG]\nvendors = ["qwen", 3]\n', "`pools.LONG.vendors`"),
        ('[pools.LONG]\ninclude = "*"\n', "`pools.LONG.include`"),
        ("[pools.LONG]\nmin_b = -1\n", "`pools.LONG.min_b`"),
        ('[pools.LONG]\nmax_b = "7b"\n', "`pools.LONG.max_b`"),
        ("[pools.LONG]\nmin_b = 70\nmax_b = 8\n", "`pools.LONG.min_b`"),
        ('[pools.LONG]\ntools = true\nunknown_size = "assume"\n', "`pools.LONG.unknown_size`"),
        ('[pools.LONG]\nmin_b = 7\nunknown_size = "guess"\n', "`pools.LONG.unknown_size`"),
        ('[pools.LONG]\ntools = true\norder = "random"\n', "`pools.LONG.order`"),
        ('[pools.LONG]\ntools = true\ntitle = ""\n', "`pools.LONG.title`"),
        ("[pools.LONG]\ntools = true\nadvice_zh = 3\n", "`pools.LONG.advice_zh`"),
        ('[pools.LONG]\ntools = true\nenabled = "no"\n', "`pools.LONG.enabled`"),
        ('[pools.LONG]\ntitle = "Long"\n', "`pools.LONG`"),  # selects nothing: a typo, not a pool
        ("[pools.VISON]\nenabled = false\n", "did you mean [pools.VISION]"),
        ('[pools]\norder = ["LONG"]\n', "`pools.order`"),
        ('[pools]\norder = ["SMALL", "SMALL"]\n', "`pools.order`"),
        ('[pools]\norder = ["VISION"]\n[pools.VISION]\nenabled = false\n', "`pools.order`"),
        (
            "[pools.SMALL]\nenabled = false\n[pools.LARGE]\nenabled = false\n[pools.CODE]\nenabled = false\n"
            "[pools.VISION]\nenabled = false\n",
            "`enabled = false`",
        ),
    ],
)
def test_pool_config_mistakes_are_one_line_naming_the_key(tmp_path, text, key):
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_config(path)
    assert key in str(info.value)
    assert "\n" not in str(info.value)


def test_pool_options_are_checked_against_the_config():
    cfg = parse_config({"pools": {"VISION": {"enabled": False}, "LONG": {"min_context": 200000}}})
    assert cfg.select(None) == ("SMALL", "LARGE", "CODE", "LONG")
    assert cfg.select(["LONG", "SMALL", "LONG"]) == ("LONG", "SMALL")
    with pytest.raises(CatalogError, match=r"^--pool LONGG: no such pool; the pools are SMALL, LARGE, CODE, LONG$"):
        cfg.select(["LONGG"])
    with pytest.raises(CatalogError, match=r"--pool VISION: that pool is switched off \(pools.VISION.enabled"):
        cfg.select(["VISION"])


# ---------------------------------------------------------------- every output


THREE = {
    "pools": {
        "order": ["LONG"],
        "VISION": {"enabled": False},
        "LONG": {
            "title": "Long documents",
            "title_zh": "长文档",
            "advice": "Summaries of whole books",
            "advice_zh": "整本书的摘要",
            "min_context": 200000,
            "order": "context",
            "cap": 3,
        },
        "AGENT": {"title": "Tool-calling agents", "tools": True, "min_b": 20, "unknown_size": "assume"},
        "NOTHING": {"title": "Nothing fits", "vendors": ["nobody"], "min_context": 10_000_000},
    }
}


def test_a_custom_pool_in_the_report_json_and_typescript():
    cfg = parse_config(THREE)
    files = render_all(SEED, cfg=cfg)
    md, ts, doc = files["free-models.md"], files["free-model-pool.ts"], json.loads(files["free-model-pool.json"])
    pools = section(md, "## 🏆")
    assert pools.index("### Long documents (LONG)") < pools.index("### ⚡ Fast answers (SMALL)")
    assert "(VISION)" not in md and "VISION" not in ts
    assert "`qwen/qwen3-next-80b-a3b-instruct:free`" in section(pools, "### Long documents (LONG)")
    assert 'export type FreeModelPoolName = "LONG" | "SMALL" | "LARGE" | "CODE" | "AGENT" | "NOTHING";' in ts
    assert "/** The pools: LONG (Long documents), SMALL (fast answers)," in ts
    assert "  // Long documents\n  LONG: [\n" in ts and "  NOTHING: [\n  ],\n" in ts
    assert list(doc["pools"]) == ["LONG", "SMALL", "LARGE", "CODE", "AGENT", "NOTHING"]
    assert doc["pools"]["LONG"] == build_pools(SEED, cfg).ids("LONG")
    assert doc["fallbacks"]["LONG"] == doc["pools"]["LONG"][:3] and doc["pools"]["NOTHING"] == []
    assert "LONG" in doc["models"]["google/gemini-2.0-flash-exp:free"]["pools"]
    zh = render_all(SEED, cfg=cfg, lang="zh")["free-models.md"]
    assert "### 长文档 (LONG)" in zh and "// 长文档" in zh


def test_an_empty_pool_renders_empty_with_the_reason():
    cfg = parse_config(THREE)
    md = render_all(SEED, cfg=cfg)["free-models.md"]
    empty = section(md, "### Nothing fits (NOTHING)")
    assert (
        "No free model fits this pool right now: of the 12 free models, 11 left out by `min_context`, "
        "11 left out by `vendors`, 1 left out by exclusions (excludes, routers, non-chat models), "
        "1 left out by `output`."
    ) in empty  # a model may fail several selectors
    assert "- **Nothing fits** (`NOTHING`): no free model fits right now." in md
    zh = render_all(SEED, cfg=cfg, lang="zh")["free-models.md"]
    assert "目前没有符合此类别的免费模型：12 个免费模型中，11 个因 `min_context` 被排除，" in zh


def test_usage_advice_follows_the_pools_in_both_languages():
    cfg = parse_config(THREE)
    md = render_all(SEED, cfg=cfg)["free-models.md"]
    advice = section(md, "## 📝 Usage advice")
    assert md.index("## 🏆") < md.index("## 📝 Usage advice") < md.index("## 📊")
    lines = [line for line in advice.splitlines() if line.startswith("- ")]
    assert [line.split("(`")[1].split("`")[0] for line in lines] == list(build_pools(SEED, cfg).pools)
    assert lines[0] == (
        "- **Summaries of whole books** (`LONG`): `google/gemini-2.0-flash-exp:free` — ranked by "
        "context, size unknown, counted as 32B, 1M context, tool calls, reads images, free for 10 days without a break. Fallbacks: "
        "`mistralai/devstral-2512:free`, `qwen/qwen3-next-80b-a3b-instruct:free`."
    )  # 262K both: by id
    assert lines[1].startswith("- **Quick tasks: short answers")
    agent = next(line for line in lines if "(`AGENT`)" in line)
    assert agent.startswith("- **Tool-calling agents** (`AGENT`)")  # no advice: the title
    large = next(line for line in lines if "(`LARGE`)" in line)
    assert large.startswith(
        "- **Complex reasoning: multi-step analysis and long answers (over 500 tokens)** "
        "(`LARGE`): `deepseek/deepseek-r1-0528:free` — size unknown, counted as 70B, 163K "
        "context, reasoning, free for 10 days without a break. Fallbacks: "
        "`meta-llama/llama-3.1-405b-instruct:free`, "
    )
    zh = section(render_all(SEED, cfg=cfg, lang="zh")["free-models.md"], "## 📝 使用建议")
    assert (
        "- **整本书的摘要**（`LONG`）：`google/gemini-2.0-flash-exp:free` — 按 context 排序、规模未知（按 32B 计）、1M 上下文"
        in zh
    )
    assert "- **复杂推理（超过 500 tokens）" in zh and "备选：" in zh


def test_hostile_titles_and_advice_stay_text(tsc, tmp_path):
    hostile = "Docs | *bold* */ `tick`\n## injected </script> ${x}"
    cfg = parse_config(
        {
            "pools": {
                "LONG": {
                    "min_context": 200000,
                    "title": hostile,
                    "advice": hostile,
                    "title_zh": hostile,
                    "advice_zh": hostile,
                }
            }
        }
    )
    for lang in ("en", "zh"):
        files = render_all(SEED, cfg=cfg, lang=lang)
        md = files["free-models.md"]
        assert_tables_intact(md)
        assert_fences_balanced(md)
        assert "\n## injected" not in md and "Docs \\| \\*bold\\*" in md
        assert hostile not in files["free-model-pool.ts"]
    ts = render_all(SEED, cfg=cfg)["free-model-pool.ts"]
    values = typecheck(tsc, {"free-model-pool.ts": ts}, tmp_path)
    assert values.returncode == 0, values.stdout + values.stderr


def test_the_default_config_keeps_the_built_in_typescript_lines():
    ts = render_all(SEED)["free-model-pool.ts"]
    assert 'export type FreeModelPoolName = "SMALL" | "LARGE" | "CODE" | "VISION";' in ts
    assert "/** The pools: SMALL (fast answers), LARGE (complex reasoning), CODE, VISION (reads images). */" in ts
    assert "  //" not in ts.split("export const FREE_MODEL_POOLS")[1].split("} as const;")[0].replace(" // ", "")


def typecheck(tsc: str, files: dict[str, str], folder: Path) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return subprocess.run(
        [tsc, "--strict", "--noEmit", "--target", "es2020", "--module", "commonjs", *(str(folder / n) for n in files)],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_typescript_with_custom_pools_and_a_built_in_off_compiles_strict(tsc, tmp_path):
    ts = render_all(capture_snapshot(NEWEST), cfg=parse_config(THREE))["free-model-pool.ts"]
    use = (
        'import { freeModelRouting, FREE_MODEL_POOLS } from "./free-model-pool";\n'
        'const body = { ...freeModelRouting("LONG"), messages: [] };\n'
        "const none: readonly string[] = FREE_MODEL_POOLS.NOTHING;\nexport { body, none };\n"
    )
    ok = typecheck(tsc, {"free-model-pool.ts": ts, "use.ts": use}, tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    off = use.replace('freeModelRouting("LONG")', 'freeModelRouting("VISION")')
    bad = typecheck(tsc, {"free-model-pool.ts": ts, "use.ts": off}, tmp_path)
    assert bad.returncode != 0 and '"VISION"' in bad.stdout  # the switched-off pool is no pool name


# ---------------------------------------------------------------- catalog pools


def test_pools_command_follows_the_config(registry, tmp_path, capsys):
    from catalog.cli import main

    cfg = tmp_path / "pools.toml"
    cfg.write_text(
        '[pools.VISION]\nenabled = false\n[pools.BIG]\nmin_b = 100\ntitle = "Big"\n'
        '[pools.NONE]\nvendors = ["nobody"]\n',
        encoding="utf-8",
    )
    assert main(["pools", "--db", registry, "--config", str(cfg), "--format", "json", "--explain"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["pools"]) == ["SMALL", "LARGE", "CODE", "BIG", "NONE"]
    assert [e["id"] for e in doc["pools"]["BIG"]] == ["meta-llama/llama-3.1-405b-instruct:free"]
    assert doc["empty"] == {"NONE": "none of the 2 free models fits: 2 left out by vendors"}
    gemma = next(d for d in doc["explain"]["BIG"] if d["id"] == "google/gemma-3-27b-it:free")
    assert gemma["reason"] == "27B total < 100B (pools.BIG.min_b)"
    assert (
        main(["pools", "--db", registry, "--config", str(cfg), "--format", "table", "--explain", "--pool", "NONE"]) == 0
    )
    text = capsys.readouterr().out
    assert text.startswith(
        "NONE: 0 chosen (cap 5), 0 below the cap, 2 left out\n"
        "  empty: none of the 2 free models fits: 2 left out by vendors\n"
    )
    assert "vendor google not in pools.NONE.vendors" in text and "SMALL" not in text
    assert main(["pools", "--db", registry, "--config", str(cfg), "--format", "table", "--pool", "NONE"]) == 0
    assert "NONE                               none of the 2 free models fits" in capsys.readouterr().out
    assert main(["pools", "--db", registry, "--config", str(cfg), "--pool", "VISION"]) == 1
    err = capsys.readouterr().err.strip()
    assert "--pool VISION" in err and "switched off" in err and "\n" not in err
