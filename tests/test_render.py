"""Rendering and writing the generated files: layout, escaping of hostile API text, determinism,
skip-unchanged and atomic writes, template overrides, the real captures, and the CLI commands.

The TypeScript checks run the TypeScript compiler: `tsc` on PATH or in the repository's
node_modules/.bin, else installed once with npm into a cache folder under the temp dir; they skip
where none of these is possible.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import string
import subprocess
import tempfile
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import NEWEST, REPO, WITH_ROUTERS

from catalog.config.loader import parse_config
from catalog.config.pools import POOL_NAMES, PoolConfig
from catalog.errors import RenderError
from catalog.ingest.normalize import ModelRecord, normalize, parse_payload
from catalog.output.filters import md_cell, md_code, tokens, ts_comment, ts_string
from catalog.output.pools import build_pools
from catalog.output.render import generate, render_files
from catalog.output.write import write_files
from catalog.state import EventRecord, FreeModel, ModelHealth, Snapshot

T0 = datetime(2026, 1, 24, 8, 0, tzinfo=UTC)


def model(mid, name=None, *, ctx=131072, inputs=("text",), params=(), since_days=10, expires=None):
    record = ModelRecord(
        id=mid,
        name=name,
        context_length=ctx,
        input_modalities=tuple(sorted(inputs)),
        output_modalities=("text",),
        supported_parameters=tuple(sorted(params)),
        pricing=(("completion", "0"), ("prompt", "0")),
        expiration_date=expires,
    )
    since = T0 - timedelta(days=since_days)
    return FreeModel(record=record, first_seen_free=since, free_since=since, times_removed=0)


def snapshot(*models, events=(), observed=T0, source="https://openrouter.ai/api/v1/models?output_modalities=all"):
    return Snapshot(
        models=tuple(sorted(models, key=lambda m: m.id)),
        observed_at=observed,
        last_changed_at=observed,
        source=source,
        recent_events=tuple(events),
    )


def event(kind, mid, *, days_ago=1, reason=None, field=None, old=None, new=None):
    return EventRecord(
        run_id=1,
        observed_at=T0 - timedelta(days=days_ago),
        model_id=mid,
        kind=kind,
        reason=reason,
        field=field,
        old=old,
        new=new,
    )


BASIC = (
    model(
        "google/gemini-2.0-flash-exp:free",
        "Google: Gemini 2.0 Flash Experimental (free)",
        ctx=1048576,
        inputs=("image", "text"),
        params=("tools",),
    ),
    model("google/gemma-3-27b-it:free", "Google: Gemma 3 27B (free)", inputs=("image", "text")),
    model("meta-llama/llama-3.1-405b-instruct:free", "Meta: Llama 3.1 405B Instruct (free)"),
    model(
        "deepseek/deepseek-r1-0528:free",
        "DeepSeek: R1 0528 (free)",
        ctx=163840,
        params=("reasoning",),
        expires="2026-02-10",
    ),
    model(
        "qwen/qwen3-coder:free",
        "Qwen: Qwen3 Coder 480B A35B (free)",
        ctx=262000,
        params=("tools",),
        expires="2098-12-31",
    ),
    model("qwen/qwen3-4b:free", "Qwen: Qwen3 4B (free)", ctx=40960, expires="not a date"),
)

HOSTILE_NAMES = [
    "a | b | c",
    "line one\nline two\r\n| 1 | 2 |",
    "```js\nalert(1)\n```",
    "tick ` and `` double",
    "He said \"hi\" and 'bye' \\",
    "*/ console.log('pwned'); /*",
    "${process.exit(1)} `${x}`",
    "</script><script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% raw %}{{ x }}{% endraw %} {% raw %}",
    "\u202egnp.exe\u200f\u2066 bidi",
    "\x00\x1b[31mred\x07\x7f beep",
    "para\u2028graph\u2029sep",
    "[link](javascript:alert(1)) ![img](x) <b>bold</b> &amp; $x$ _u_ ~s~",
    "通义千问：中文名",
    "x" * 10_000,
]

HOSTILE_IDS = [
    "evil/pipe|id:free",
    "evil/new\nline:free",
    "evil/back`tick``s:free",
    "evil/quote\"s's:free",
    "evil/close*/comment:free",
    "evil/tmpl${x}:free",
    "evil/</script>:free",
    "evil/back\\slash\\|:free",
    "evil/sep\u2028\u202e:free",
    "ev|l`x/vendor:free",
    "no-vendor-at-all:free",
    "evil/" + "y" * 10_000 + ":free",
]


def hostile_snapshot() -> Snapshot:
    models = [model(f"evil/name-{i:02d}:free", name) for i, name in enumerate(HOSTILE_NAMES)]
    models += [model(mid, f"Hostile id {i}") for i, mid in enumerate(HOSTILE_IDS)]
    events = [
        event("added", HOSTILE_IDS[0]),
        event("changed", HOSTILE_IDS[2], field="context_length", old=8192, new=131072),
        event("changed", HOSTILE_IDS[3], field="pricing.prompt", old="0", new="| `1` |\n"),
        event("removed", "evil/gone|`x`\n:free", reason="delisted", days_ago=2),
    ]
    return snapshot(*models, events=events, source="https://x/|`y`\n<z>")


# A config that lets every hostile model into the pools, so they reach the TypeScript arrays.
WIDE = parse_config({"pools": {"cap": 100}})


# ---------------------------------------------------------------- Markdown structure checks


def split_row(line: str) -> list[str]:
    """GFM table cells: split on pipes that a backslash escape does not protect."""
    cells, cur, i = [], "", 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] in string.punctuation:
            cur += line[i : i + 2]
            i += 2
            continue
        if ch == "|":
            cells.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    cells.append(cur)
    return cells


def tables(md: str) -> list[list[str]]:
    """Consecutive lines starting with `|`, outside fenced code."""
    found, current, fenced = [], [], False
    for line in md.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def assert_tables_intact(md: str) -> None:
    found = tables(md)
    assert found, "no tables rendered"
    for table in found:
        width = len(split_row(table[0]))
        assert set(table[1].replace("|", "")) <= {"-", " "}, table[:2]
        for row in table:
            assert len(split_row(row)) == width, row[:200]
            assert row.endswith("|")


def assert_fences_balanced(md: str) -> None:
    fences = [line for line in md.split("\n") if line.startswith("```")]
    assert len(fences) % 2 == 0
    assert all(line == "```" for line in fences[1::2])


def section(md: str, heading: str) -> str:
    start = md.index(heading)
    end = md.find("\n## ", start + 1)
    return md[start : end if end != -1 else len(md)]


def full_list(md: str) -> dict[str, list[str]]:
    """Vendor heading -> the first cells of its table rows, in the "All free models" section."""
    groups: dict[str, list[str]] = {}
    heading, row = None, 0
    for line in section(md, "## 📊").split("\n"):
        if line.startswith("### "):
            heading, row = line, 0
            groups[heading] = []
        elif line.startswith("|") and heading:
            row += 1
            if row > 2:  # below the header and the rule
                groups[heading].append(split_row(line)[1].strip())
    return groups


def outside_fences(md: str) -> str:
    return "\n".join(part for i, part in enumerate(md.split("```")) if i % 2 == 0)


def no_invisible_characters(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\n" for ch in text)


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (131072, "131K"),
        (163840, "163K"),
        (32768, "32K"),
        (8192, "8K"),
        (262000, "262K"),
        (1048576, "1M"),
        (1_000_000, "1M"),
        (2_000_000, "2M"),
        (1_500_000, "1.5M"),
        (999, "999"),
        (None, "—"),
    ],
)
def test_tokens(value, text):
    assert tokens(value) == text


def test_md_cell_escapes_markdown_html_and_breaks():
    assert md_cell("a | b") == "a \\| b"
    assert md_cell("x\ny\r\nz") == "x y z"
    assert md_cell("<b>&") == "\\<b\\>\\&"
    assert md_cell("\u202eabc\x00\x1b") == "abc"
    assert md_cell("x" * 500).endswith("…") and len(md_cell("x" * 500)) == 200
    assert md_cell(None) == ""


def test_md_code_survives_backticks():
    assert md_code("google/gemma:free") == "`google/gemma:free`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("``x") == "``` ``x ```"
    assert md_code("a|b") == "a\\|b"  # no code span carries a pipe safely in a table


def test_ts_string_is_a_json_literal_that_cannot_escape():
    for value in HOSTILE_NAMES + HOSTILE_IDS:
        literal = ts_string(value)
        assert json.loads(literal) == value
        for bad in ("</", "*/", "`", "\n", "\u2028", "\u2029"):
            assert bad not in literal
        assert literal.isascii()


def test_ts_comment_is_one_safe_line():
    for value in HOSTILE_NAMES:
        comment = ts_comment(value)
        assert "\n" not in comment and "*/" not in comment and "`" not in comment and "<" not in comment
        assert no_invisible_characters(comment)
        assert len(comment) <= 160


# ---------------------------------------------------------------- rendering


def render_all(snap: Snapshot, *, lang="en", cfg: PoolConfig | None = None, templates_dir=None) -> dict[str, str]:
    return render_files(snap, lang=lang, templates_dir=templates_dir, pools=build_pools(snap, cfg or PoolConfig()))


def test_files_and_the_generated_line():
    files = render_all(snapshot(*BASIC))
    assert sorted(files) == ["free-model-pool.json", "free-model-pool.ts", "free-models.md"]
    for name, text in files.items():
        first = text.split("\n", 1)[0]
        assert "do not edit" in first and "catalog render --out generated" in first, name
    assert files["free-models.md"].startswith("<!-- ")
    assert files["free-model-pool.ts"].startswith("// ")
    assert json.loads(files["free-model-pool.json"])["_generated"].startswith("Generated by catalog")


def test_the_page_has_the_seed_sections():
    snap = snapshot(
        *BASIC,
        events=[
            event("added", "qwen/qwen3-4b:free", days_ago=1),
            event("removed", "mistralai/devstral-2512:free", reason="delisted", days_ago=2),
            event("returned", "google/gemma-3-27b-it:free", days_ago=3),
            event("changed", "qwen/qwen3-coder:free", field="context_length", old=262144, new=1048576, days_ago=4),
            event("changed", "qwen/qwen3-coder:free", field="description", old="a", new="b", days_ago=4),
        ],
    )
    md = render_all(snap)["free-models.md"]
    assert "**Free catalog last changed**: 2026-01-24 08:00 UTC" in md
    assert "**Free models**: 6" in md
    for pool in POOL_NAMES:
        assert f"({pool})" in md
    assert "| **`google/gemini-2.0-flash-exp:free`** | 1M tokens | 🥇 first choice" in md
    assert "### Google — `google` (2)" in md
    assert "| `google/gemma-3-27b-it:free` | Google: Gemma 3 27B (free) | 131K | 2026-01-14 |" in md
    changes = section(md, "## 🕒")
    assert "| 2026-01-23 08:00 | ➕ added | `qwen/qwen3-4b:free` |" in changes
    assert "`mistralai/devstral-2512:free` | no longer listed |" in changes
    assert "↩️ returned" in changes
    assert "context 262K → 1M" in changes
    assert "| description" not in changes and "1 other field changes" in changes
    expiring = section(md, "## ⏳")
    assert "`deepseek/deepseek-r1-0528:free`" in expiring and "2026-02-10" in expiring
    assert "qwen3-coder" not in expiring and "qwen3-4b" not in expiring
    assert "20 requests per minute" in section(md, "## 🚦")
    assert not re.search(r"\d\s*ms\b", md)  # no invented latency
    assert_tables_intact(md)
    assert_fences_balanced(md)


def measured(snap: Snapshot, **states: str) -> Snapshot:
    """The snapshot with a health sample of each model named (by its id's last part): its state."""
    by_id = {m.id.split("/")[-1]: m.id for m in snap.models}
    health = {by_id[key]: ModelHealth(state=state, sampled_at=T0) for key, state in states.items()}
    return dataclasses.replace(snap, health=health, health_at=T0)


def pool_rows(md: str, pool: str) -> list[list[str]]:
    """The cells of a pool table's rows, under the pool's heading in the recommended section."""
    part = section(md, "## 🏆")
    start = part.index(f"({pool})")
    rows = [line for line in part[start:].split("\n\n", 2)[1].split("\n") if line.startswith("|")]
    return [[cell.strip() for cell in split_row(row)[1:-1]] for row in rows]


@pytest.mark.parametrize(
    ("lang", "up", "degraded", "unknown"),
    [("en", "🟢 up", "🟡 degraded", "⚪ unknown"), ("zh", "🟢 正常", "🟡 降级", "⚪ 未知")],
)
def test_pool_tables_carry_each_models_measured_state(lang, up, degraded, unknown):
    snap = measured(snapshot(*BASIC), **{"gemini-2.0-flash-exp:free": "up", "gemma-3-27b-it:free": "degraded"})
    md = render_all(snap, lang=lang)["free-models.md"]
    rows = {row[0]: row for row in pool_rows(md, "SMALL")[2:]}
    assert rows["**`google/gemini-2.0-flash-exp:free`**"][1] == up
    assert rows["**`google/gemma-3-27b-it:free`**"][1] == degraded
    assert rows["**`qwen/qwen3-4b:free`**"][1] == unknown  # never sampled: not measured, so unknown
    assert len(pool_rows(md, "SMALL")[0]) == 4
    assert_tables_intact(md)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_measured_availability_is_read_before_the_full_list(lang):
    md = render_all(measured(snapshot(*BASIC), **{"gemma-3-27b-it:free": "down"}), lang=lang)["free-models.md"]
    headings = [line.split()[1] for line in md.split("\n") if line.startswith("## ")]
    # the seed page's sections, with the measured availability right after the recommended pools
    assert headings == ["🏆", "📡", "📝", "📊", "🎯", "🕒", "⏳", "🚦", "⚠️"]


def test_pool_tables_have_no_state_column_when_nothing_is_measured():
    md = render_all(snapshot(*BASIC))["free-models.md"]
    assert pool_rows(md, "SMALL")[0] == ["Model", "Context", "Good for"]


@pytest.mark.parametrize(
    ("lang", "note"), [("en", "expired on 2026-03-02, still listed"), ("zh", "已于 2026-03-02 到期，仍在列表中")]
)
def test_dates_already_past_read_as_expired_apart_from_those_expiring_soon(lang, note):
    models = [
        model("a/past:free", "Past", expires="2026-03-02"),
        model("a/today:free", "Today", expires="2026-12-04"),
        model("a/soon:free", "Soon", expires="2026-12-20T00:00:00Z"),
        model("a/later:free", "Later", expires="2027-03-01"),
    ]
    run = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
    md = render_all(snapshot(*models, observed=run), lang=lang)["free-models.md"]
    soon, expired = tables(section(md, "## ⏳"))
    assert [split_row(r)[1].strip() for r in soon[2:]] == ["`a/today:free`", "`a/soon:free`"]
    assert [split_row(r)[3].strip() for r in soon[2:]] == ["2026-12-04", "2026-12-20"]
    assert [(split_row(r)[1].strip(), split_row(r)[3].strip()) for r in expired[2:]] == [("`a/past:free`", note)]
    assert "a/later" not in section(md, "## ⏳")
    # Relative to the sync, never the clock: synced before that date, the same model expires soon.
    earlier = render_all(snapshot(*models, observed=datetime(2026, 2, 20, tzinfo=UTC)), lang=lang)["free-models.md"]
    assert len(tables(section(earlier, "## ⏳"))) == 1 and "2026-03-02 |" in section(earlier, "## ⏳")


def test_chinese_page_has_the_same_pools():
    snap = snapshot(*BASIC)
    en, zh = render_all(snap), render_all(snap, lang="zh")
    assert "实际可用列表" in zh["free-models.md"] and "推荐模型" in zh["free-models.md"]
    assert json.loads(en["free-model-pool.json"])["pools"] == json.loads(zh["free-model-pool.json"])["pools"]
    assert "--lang zh" in zh["free-models.md"].split("\n", 1)[0]
    assert_tables_intact(zh["free-models.md"])


def test_pool_file_json_matches_the_pools():
    snap = snapshot(*BASIC)
    pools = build_pools(snap, PoolConfig())
    doc = json.loads(render_files(snap, lang="en", templates_dir=None, pools=pools)["free-model-pool.json"])
    assert list(doc["pools"]) == list(POOL_NAMES)
    for name in POOL_NAMES:
        assert doc["pools"][name] == pools.ids(name)
        assert doc["fallbacks"][name] == pools.ids(name)[:3]
        assert len(doc["fallbacks"][name]) <= 3
    assert set(doc["models"]) == {i for name in POOL_NAMES for i in pools.ids(name)}


def test_the_markdown_snippet_is_the_typescript_constant():
    files = render_all(snapshot(*BASIC))
    md = files["free-models.md"]
    start = md.index("```ts\n") + len("```ts\n")
    snippet = md[start : md.index("```\n", start)]
    assert snippet.startswith("export const FREE_MODEL_POOLS = {")
    assert snippet in files["free-model-pool.ts"]


def test_hostile_text_keeps_every_file_valid():
    snap = hostile_snapshot()
    files = render_all(snap, cfg=WIDE)
    md, ts, doc = files["free-models.md"], files["free-model-pool.ts"], json.loads(files["free-model-pool.json"])
    assert_tables_intact(md)
    assert_fences_balanced(md)
    for text in files.values():
        assert no_invisible_characters(text)
    assert "<script>" not in outside_fences(md) and "</script>" not in ts
    assert "{{ 7\\*7 }}" in md and "49" not in md  # shown literally, never evaluated
    assert "{% raw %}" in md.replace("\\", "")
    # Every hostile model is listed exactly once in the full list.
    listed = [cell for cells in full_list(md).values() for cell in cells]
    assert sorted(listed) == sorted(md_code(m.id) for m in snap.models)
    assert all(json.loads(ts_string(i)) == i for i in doc["pools"]["SMALL"])
    free = {m.id for m in snap.models}
    assert set(doc["pools"]["SMALL"]) <= free and len(doc["pools"]["SMALL"]) == len(free)


def test_templates_never_evaluate_api_text():
    snap = snapshot(model("v/x-7b:free", "{{ config }}{% for x in range(3) %}X{% endfor %}"))
    md = render_all(snap)["free-models.md"]
    assert "{{ config }}{% for x in range(3) %}X{% endfor %}" in md
    assert "XXX" not in md


def test_empty_registry_renders():
    files = render_all(Snapshot(models=(), observed_at=None, last_changed_at=None, source=None, recent_events=()))
    assert "**Free models**: 0" in files["free-models.md"]
    assert "never" in files["free-models.md"]
    assert json.loads(files["free-model-pool.json"])["pools"] == {name: [] for name in POOL_NAMES}


def test_same_state_renders_the_same_bytes():
    first = render_all(hostile_snapshot(), cfg=WIDE)
    second = render_all(hostile_snapshot(), cfg=WIDE)
    assert first == second


# ---------------------------------------------------------------- templates


def test_a_user_template_overrides_one_file_only(tmp_path):
    (tmp_path / "free-models.en.md.j2").write_text(
        "<!-- {{ generated }} -->\n{% for p in pools %}{{ p.name }}={{ p.entries|length }};{% endfor %}\n",
        encoding="utf-8",
    )
    snap = snapshot(*BASIC)
    pools = build_pools(snap, PoolConfig())
    files = render_all(snap, templates_dir=tmp_path)
    expected = "".join(f"{name}={len(pools.ids(name))};" for name in POOL_NAMES)
    assert files["free-models.md"].split("\n")[1] == expected
    assert files["free-model-pool.ts"] == render_all(snap)["free-model-pool.ts"]


def test_a_broken_template_is_one_line_naming_it(tmp_path):
    (tmp_path / "free-model-pool.ts.j2").write_text("ok\n{{ no_such_value }}\n", encoding="utf-8")
    with pytest.raises(RenderError) as info:
        render_all(snapshot(*BASIC), templates_dir=tmp_path)
    assert "free-model-pool.ts.j2 line 2" in str(info.value) and "\n" not in str(info.value)
    (tmp_path / "free-model-pool.ts.j2").write_text("{% for %}\n", encoding="utf-8")
    with pytest.raises(RenderError, match=r"free-model-pool\.ts\.j2 line 1"):
        render_all(snapshot(*BASIC), templates_dir=tmp_path)


def test_a_missing_templates_folder_is_an_error(tmp_path):
    with pytest.raises(RenderError, match="templates folder"):
        render_all(snapshot(*BASIC), templates_dir=tmp_path / "nope")


def test_an_unknown_language_is_an_error():
    with pytest.raises(RenderError, match="unknown language"):
        render_all(snapshot(*BASIC), lang="fr")


# ---------------------------------------------------------------- writing


def test_unchanged_state_rewrites_nothing(tmp_path):
    snap = snapshot(*BASIC)
    first = generate(snap, out_dir=tmp_path / "out")
    assert len(first.written) == 3 and not first.unchanged
    old = 1_000_000_000
    for path in first.written:
        os.utime(path, (old, old))
    before = {p.name: p.read_bytes() for p in first.written}
    second = generate(snap, out_dir=tmp_path / "out")
    assert not second.written and len(second.unchanged) == 3
    for path in second.unchanged:
        assert path.stat().st_mtime == old
        assert path.read_bytes() == before[path.name]


def test_a_change_rewrites_only_the_files_it_touches(tmp_path):
    generate(snapshot(*BASIC), out_dir=tmp_path)
    with_news = snapshot(*BASIC, events=[event("added", "qwen/qwen3-4b:free")])
    report = generate(with_news, out_dir=tmp_path)
    assert [p.name for p in report.written] == ["free-models.md"]
    # The rebuild command in every first line names the language, so all three change.
    assert len(generate(with_news, out_dir=tmp_path, lang="zh").written) == 3


def test_writes_leave_no_temporary_files(tmp_path):
    write_files(tmp_path, {"a.txt": "one\n", "b.txt": "two\n"})
    write_files(tmp_path, {"a.txt": "three\n", "b.txt": "two\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    assert (tmp_path / "a.txt").read_text() == "three\n"
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    snap = snapshot(*BASIC)
    generate(snap, out_dir=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def fail(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(RenderError) as info:
        generate(snap, out_dir=tmp_path, lang="zh")
    message = str(info.value)
    assert re.match(rf"could not write {re.escape(str(tmp_path))}/free-model[-.\w]+: No space left on device;", message)
    assert "registry is up to date" in message and "catalog render" in message and "\n" not in message
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_an_unusable_output_folder_is_a_render_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RenderError, match="could not write"):
        generate(snapshot(*BASIC), out_dir=blocker / "out")


def test_file_names_must_be_plain(tmp_path):
    with pytest.raises(ValueError):
        write_files(tmp_path, {"../escape.txt": "x"})


def test_a_bad_config_is_a_render_error(tmp_path):
    bad = tmp_path / "catalog.toml"
    bad.write_text("[pools]\ncap = 'x'\n", encoding="utf-8")
    with pytest.raises(RenderError, match=r"`pools\.cap`"):
        generate(snapshot(*BASIC), out_dir=tmp_path / "out", config_path=bad)
    assert not (tmp_path / "out").exists()


def test_the_rebuild_command_names_the_options_used(tmp_path):
    cfg = tmp_path / "my pools.toml"
    cfg.write_text("", encoding="utf-8")
    generate(snapshot(*BASIC), out_dir=tmp_path / "out", lang="zh", config_path=cfg)
    first = (tmp_path / "out/free-models.md").read_text(encoding="utf-8").split("\n", 1)[0]
    assert f"catalog render --out {tmp_path}/out --lang zh --config '{cfg}'" in first


# ---------------------------------------------------------------- TypeScript


@pytest.fixture(scope="session")
def tsc() -> str:
    """A TypeScript compiler: $CATALOG_TSC, on PATH, in the repository's node_modules/.bin (an
    `npm install typescript` at its root), in the cache folder, or installed there with npm once."""
    if found := os.environ.get("CATALOG_TSC") or shutil.which("tsc"):
        return found
    local = REPO / "node_modules" / ".bin" / "tsc"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    cache = Path(os.environ.get("CATALOG_TSC_CACHE") or Path(tempfile.gettempdir()) / "catalog-tsc")
    binary = cache / "node_modules/.bin/tsc"
    if not binary.exists():
        if not (shutil.which("node") and shutil.which("npm")):
            pytest.skip("node/npm not available: TypeScript not checked")
        try:
            subprocess.run(
                ["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--silent", "typescript@5"],
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"could not install typescript with npm: {exc}")
    if not binary.exists():
        pytest.skip("typescript installed without a tsc binary")
    return str(binary)


def compile_and_load(tsc: str, ts_text: str, folder: Path) -> dict:
    """Type-check with --strict, emit CommonJS, and read the exported values back through node."""
    source = folder / "free-model-pool.ts"
    source.write_text(ts_text, encoding="utf-8")
    result = subprocess.run(
        [tsc, "--strict", "--target", "es2020", "--module", "commonjs", "--outDir", str(folder / "out"), str(source)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    script = (
        "const m = require(process.argv[1]);"
        "process.stdout.write(JSON.stringify({pools: m.FREE_MODEL_POOLS, fallbacks: m.FREE_MODEL_FALLBACKS,"
        " routing: m.freeModelRouting('SMALL'), catalog: m.FREE_MODEL_CATALOG}));"
    )
    loaded = subprocess.run(
        ["node", "-e", script, str(folder / "out/free-model-pool.js")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(loaded.stdout)


def test_typescript_compiles_and_carries_hostile_ids_exactly(tsc, tmp_path):
    snap = hostile_snapshot()
    files = render_all(snap, cfg=WIDE)
    doc = json.loads(files["free-model-pool.json"])
    values = compile_and_load(tsc, files["free-model-pool.ts"], tmp_path)
    assert values["pools"] == doc["pools"]
    assert values["fallbacks"] == doc["fallbacks"]
    assert values["routing"] == {"models": doc["fallbacks"]["SMALL"]}
    assert values["catalog"]["source"] == snap.source


def test_typescript_compiles_with_empty_pools(tsc, tmp_path):
    empty = Snapshot(models=(), observed_at=None, last_changed_at=None, source=None, recent_events=())
    values = compile_and_load(tsc, render_all(empty)["free-model-pool.ts"], tmp_path)
    assert values["pools"] == {name: [] for name in POOL_NAMES}
    assert values["catalog"]["lastChangedAt"] is None


# ---------------------------------------------------------------- real captures


def capture_snapshot(path: Path) -> Snapshot:
    catalog = normalize(parse_payload(path.read_bytes()))
    models = tuple(
        FreeModel(record=record, first_seen_free=T0, free_since=T0, times_removed=0)
        for record in sorted(catalog.free.values(), key=lambda r: r.id)
    )
    return Snapshot(models=models, observed_at=T0, last_changed_at=T0, source=f"file:{path.name}", recent_events=())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_real_capture_lists_every_free_model_once_under_its_vendor(lang):
    snap = capture_snapshot(NEWEST)
    assert len(snap.models) == 33
    md = render_all(snap, lang=lang)["free-models.md"]
    assert_tables_intact(md)
    groups = full_list(md)
    seen = []
    for heading, cells in groups.items():
        for cell in cells:
            model_id = cell.strip("`")
            assert f"`{model_id.split('/', 1)[0]}`" in heading, (heading, model_id)
            seen.append(model_id)
    assert sorted(seen) == sorted(m.id for m in snap.models)


def test_real_capture_pools_hold_only_free_models_and_follow_the_config():
    snap = capture_snapshot(NEWEST)
    free = {m.id for m in snap.models}
    pools = build_pools(snap, PoolConfig())
    for name in POOL_NAMES:
        assert pools.ids(name) and set(pools.ids(name)) <= free and len(pools.ids(name)) <= 5
    assert pools.ids("CODE")[0] == "qwen/qwen3-coder:free"
    assert "google/gemini-2.0-flash-exp:free" in pools.ids("VISION")
    pinned = build_pools(
        snap,
        parse_config(
            {
                "pools": {
                    "cap": 3,
                    "exclude": ["openai/*"],
                    "LARGE": {"pin": ["meta-llama/llama-3.1-405b-instruct:free"]},
                },
            }
        ),
    )
    assert pinned.ids("LARGE")[0] == "meta-llama/llama-3.1-405b-instruct:free"
    assert all(len(pinned.ids(n)) <= 3 for n in POOL_NAMES)
    assert not any(i.startswith("openai/") for n in POOL_NAMES for i in pinned.ids(n))


def test_real_capture_typescript_compiles(tsc, tmp_path):
    snap = capture_snapshot(NEWEST)
    source = tmp_path / "free-model-pool.ts"
    source.write_text(render_all(snap)["free-model-pool.ts"], encoding="utf-8")
    result = subprocess.run([tsc, "--strict", "--noEmit", str(source)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_routers_in_a_real_capture_stay_out_of_the_pools():
    snap = capture_snapshot(WITH_ROUTERS)
    assert "openrouter/free" in {m.id for m in snap.models}
    pools = build_pools(snap, PoolConfig())
    assert not any(i.startswith("openrouter/") for n in POOL_NAMES for i in pools.ids(n))
    md = render_all(snap)["free-models.md"]
    assert "`openrouter/free`" in section(md, "## 📊")  # still listed as a free model


# ---------------------------------------------------------------- the commands


ANSWER = {
    "data": [
        {
            "id": "google/gemma-3-27b-it:free",
            "name": "Google: Gemma 3 27B (free)",
            "context_length": 131072,
            "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
            "pricing": {"prompt": "0", "completion": "0"},
            "supported_parameters": ["tools"],
        },
        {
            "id": "meta-llama/llama-3.1-405b-instruct:free",
            "name": "Meta: Llama 3.1 405B Instruct (free)",
            "context_length": 131072,
            "pricing": {"prompt": "0", "completion": "0"},
        },
        {
            "id": "openai/gpt-4o",
            "name": "OpenAI: GPT-4o",
            "context_length": 128000,
            "pricing": {"prompt": "0.0000025", "completion": "0.00001"},
        },
    ]
}


@pytest.fixture
def registry(tmp_path, db_url):
    from catalog.cli import main

    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps(ANSWER), encoding="utf-8")
    assert main(["sync", "--db", db_url, "--from-file", str(answer), "--no-render"]) == 0
    return db_url


def test_render_command_writes_then_leaves_files_alone(registry, tmp_path, capsys):
    from catalog.cli import main

    out = tmp_path / "gen"
    assert main(["render", "--db", registry, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"rendered 8 files to {out}/ (8 written, 0 unchanged)"
    assert main(["render", "--db", registry, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"rendered 8 files to {out}/ (0 written, 8 unchanged)"
    md = (out / "free-models.md").read_text(encoding="utf-8")
    assert "`google/gemma-3-27b-it:free`" in md and "gpt-4o" not in md


def test_pools_command_json_and_explain(registry, capsys):
    from catalog.cli import main

    assert main(["pools", "--db", registry, "--format", "json", "--explain"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in doc["pools"]["LARGE"]] == ["meta-llama/llama-3.1-405b-instruct:free"]
    assert [e["id"] for e in doc["pools"]["VISION"]] == ["google/gemma-3-27b-it:free"]
    reasons = {d["id"]: d for d in doc["explain"]["SMALL"]}
    assert reasons["meta-llama/llama-3.1-405b-instruct:free"]["status"] == "left out"
    assert "405B total > 32B" in reasons["meta-llama/llama-3.1-405b-instruct:free"]["reason"]
    assert main(["pools", "--db", registry, "--format", "table", "--explain"]) == 0
    text = capsys.readouterr().out
    assert "SMALL: 1 chosen (cap 5)" in text and "score = " in text
    assert main(["pools", "--db", registry, "--format", "table"]) == 0
    assert "meta-llama/llama-3.1-405b-instruct:free" in capsys.readouterr().out


def test_pools_command_reports_a_bad_config_in_one_line(registry, tmp_path, capsys):
    from catalog.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text("[pools.TINY]\n", encoding="utf-8")
    assert main(["pools", "--db", registry, "--config", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert "`pools.TINY`" in err and "\n" not in err


def test_render_command_on_an_empty_registry_says_what_to_do(tmp_path, capsys, db_url):
    from catalog.cli import main

    db = db_url
    assert main(["db", "upgrade", "--db", db]) == 0
    capsys.readouterr()
    assert main(["render", "--db", db, "--out", str(tmp_path / "gen")]) == 1
    assert "run `catalog sync` first" in capsys.readouterr().err
    assert not (tmp_path / "gen").exists()
