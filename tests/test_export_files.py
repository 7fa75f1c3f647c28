"""`[exports]` in catalog.toml: config errors naming the key, the exports written with every render
(same bytes as `catalog export`), left alone when unchanged, rewritten when the pools change,
re-rendered when deleted, and never over a generated file or outside the output folder."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from fakeapi import catalog_doc
from fakeapi import model as api_model
from test_pools import SEED_LIKE, snapshot

from catalog.config.exports import Export
from catalog.config.loader import parse_config
from catalog.errors import CatalogError, RenderError
from catalog.output.pools import build_pools
from catalog.output.render import render_files
from catalog.output.write import write_files

# ---------------------------------------------------------------- the config


def test_exports_are_read_in_the_files_order_with_paths_normalized():
    cfg = parse_config(
        {
            "exports": {
                "openrouter": {"path": "./gateway//code.json", "pool": "CODE"},
                "litellm": "litellm-config.yaml",
            }
        }
    )
    assert cfg.exports == (
        Export("openrouter", "gateway/code.json", "CODE"),
        Export("litellm", "litellm-config.yaml"),
    )
    assert parse_config({}).exports == ()


@pytest.mark.parametrize(
    ("exports", "message"),
    [
        ({"portkey": "x.json"}, "config: unknown key `exports.portkey` (known: litellm, openrouter)"),
        ({"litellm": "../litellm.yaml"}, "`exports.litellm` must be a file path inside the output folder"),
        ({"litellm": "/etc/litellm.yaml"}, "`exports.litellm` must be a file path inside the output folder"),
        ({"litellm": "a/../../b.yaml"}, "`exports.litellm` must be a file path inside the output folder"),
        ({"litellm": "~/litellm.yaml"}, "`exports.litellm` must be a file path inside the output folder"),
        ({"litellm": "..\\litellm.yaml"}, "`exports.litellm` must be a file path inside the output folder"),
        ({"litellm": "gateway/"}, "`exports.litellm` must be a file path inside the output folder"),
        ({"litellm": "."}, "`exports.litellm` must be a file path inside the output folder"),
        ({"litellm": ""}, "`exports.litellm` must be a non-empty string"),
        ({"litellm": 3}, "`exports.litellm` must be a non-empty string, not an integer (3)"),
        ({"openrouter": {"path": "../x.json"}}, "`exports.openrouter.path` must be a file path inside"),
        ({"openrouter": {"pool": "CODE"}}, "`exports.openrouter.path` is missing"),
        ({"openrouter": {"path": "x.json", "pool": "NOPE"}}, "`exports.openrouter.pool` names 'NOPE', which is no"),
        ({"litellm": {"path": "x.yaml", "pool": "CODE"}}, "unknown key `exports.litellm.pool` (known: path)"),
        ({"litellm": "same.txt", "openrouter": "./same.txt"}, "`exports.openrouter` writes same.txt, as `exports."),
    ],
)
def test_a_mistake_is_one_line_naming_the_key(exports, message):
    with pytest.raises(CatalogError) as caught:
        parse_config({"exports": exports})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_export_of_a_switched_off_pool_is_refused():
    with pytest.raises(CatalogError, match="names 'VISION', which is no enabled pool"):
        parse_config(
            {"pools": {"VISION": {"enabled": False}}, "exports": {"openrouter": {"path": "v.json", "pool": "VISION"}}}
        )


def test_exports_is_a_table():
    with pytest.raises(CatalogError, match="`exports` must be a table"):
        parse_config({"exports": "litellm"})


# ---------------------------------------------------------------- rendering

SEED = snapshot(*SEED_LIKE)


def test_the_render_holds_each_export_beside_the_generated_files():
    cfg = parse_config({"exports": {"litellm": "gw/litellm.yaml", "openrouter": {"path": "code.json", "pool": "CODE"}}})
    pools = build_pools(SEED, cfg)
    files = render_files(SEED, lang="en", templates_dir=None, pools=pools)
    assert "free-models.md" in files
    doc = yaml.safe_load(files["gw/litellm.yaml"])
    assert [d["litellm_params"]["model"] for d in doc["model_list"] if d["model_name"] == "CODE"] == [
        f"openrouter/{mid}" for mid in pools.ids("CODE")
    ]
    assert json.loads(files["code.json"]) == {"models": pools.ids("CODE")[:3]}


def test_an_export_may_not_replace_a_generated_file():
    cfg = parse_config({"exports": {"litellm": "free-models.md"}})
    with pytest.raises(RenderError) as caught:
        render_files(SEED, lang="en", templates_dir=None, pools=build_pools(SEED, cfg))
    assert str(caught.value) == (
        "`exports.litellm` would overwrite the generated free-models.md; give the export another path"
    )


@pytest.mark.parametrize("name", ["../x", "/x", "a/../x", "a//x", "./x", "a/", ""])
def test_the_writer_refuses_a_path_leaving_the_folder(tmp_path, name):
    with pytest.raises(ValueError):
        write_files(tmp_path / "out", {name: "x"})
    assert not (tmp_path / "x").exists()


def test_the_writer_makes_folders_and_clears_dead_writers_temporaries_beside_the_file(tmp_path):
    out = tmp_path / "out"
    (out / "gw").mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = out / "gw" / f".litellm.yaml.{int(dead.stdout)}.abc123.tmp"
    stale.write_text("half a fil")
    report = write_files(out, {"gw/litellm.yaml": "a: 1\n", "deeper/still/x.json": "{}\n"})
    assert (out / "gw" / "litellm.yaml").read_text() == "a: 1\n"
    assert (out / "deeper" / "still" / "x.json").read_text() == "{}\n"
    assert not stale.exists()
    assert len(report.written) == 2


# ---------------------------------------------------------------- with every sync, on a real registry

FREE = [
    api_model("qwen/qwen3-coder:free", context_length=262000),
    api_model("mistralai/devstral-small:free"),
    api_model("meta-llama/llama-3.3-70b-instruct:free"),
    api_model("qwen/qwen3-4b:free", context_length=40960),
]
PAID = [api_model("openai/gpt-codex-max", prompt="0.000001", completion="0.000004", context_length=1048576)]
CONFIG = """
[exports]
litellm = "gateway/litellm-config.yaml"
openrouter = { path = "openrouter-models.json", pool = "CODE" }
"""


@pytest.fixture
def synced(cli, answer_file, tmp_path):
    (tmp_path / "catalog.toml").write_text(CONFIG)
    out = tmp_path / "generated"

    def sync(models, at):
        result = cli(
            "sync",
            "--db",
            tmp_path / "reg.db",
            "--from-file",
            answer_file(catalog_doc(models)),
            "--out",
            out,
            "--observed-at",
            at,
        )
        assert result.code == 0, result.err
        return out

    return sync


def test_a_sync_writes_the_exports_as_the_export_commands_print_them(cli, synced, tmp_path):
    out = synced(FREE + PAID, "2026-01-20T00:00:00Z")
    litellm = (out / "gateway" / "litellm-config.yaml").read_text()
    assert litellm == cli("export", "litellm", "--db", tmp_path / "reg.db").out
    fragment = (out / "openrouter-models.json").read_text()
    assert fragment == cli("export", "openrouter", "--pool", "CODE", "--db", tmp_path / "reg.db").out
    assert "gpt-codex-max" not in litellm + fragment


def test_unchanged_exports_are_left_alone_and_changed_ones_rewritten(cli, synced, tmp_path):
    out = synced(FREE + PAID, "2026-01-20T00:00:00Z")
    litellm, fragment = out / "gateway" / "litellm-config.yaml", out / "openrouter-models.json"
    before = {p: p.stat().st_mtime_ns for p in (litellm, fragment)}
    synced(FREE + PAID, "2026-01-20T01:00:00Z")  # the same answer an hour later: render skipped
    assert {p: p.stat().st_mtime_ns for p in (litellm, fragment)} == before
    again = cli("render", "--db", tmp_path / "reg.db", "--out", out)  # a full render, same bytes
    assert again.code == 0 and "0 written" in again.out
    assert {p: p.stat().st_mtime_ns for p in (litellm, fragment)} == before
    synced(FREE[1:] + PAID, "2026-01-20T02:00:00Z")  # qwen3-coder stops being free
    assert "qwen/qwen3-coder:free" not in litellm.read_text()
    # One coding model left: CODE fills up with the LARGE model (rules.code_fill).
    assert json.loads(fragment.read_text()) == {
        "models": ["mistralai/devstral-small:free", "meta-llama/llama-3.3-70b-instruct:free"]
    }


def test_a_deleted_export_comes_back_with_the_next_sync(synced):
    out = synced(FREE, "2026-01-20T00:00:00Z")
    (out / "openrouter-models.json").unlink()
    synced(FREE, "2026-01-20T01:00:00Z")
    assert json.loads((out / "openrouter-models.json").read_text())["models"][0] == "qwen/qwen3-coder:free"


def test_an_export_added_to_the_config_is_written_by_the_next_render(cli, synced, tmp_path):
    out = synced(FREE, "2026-01-20T00:00:00Z")
    (tmp_path / "catalog.toml").write_text(CONFIG.replace("gateway/litellm-config.yaml", "lite.yaml"))
    result = cli("render", "--db", tmp_path / "reg.db", "--out", out)
    assert result.code == 0, result.err
    assert yaml.safe_load((out / "lite.yaml").read_text())["model_list"]


def test_a_bad_exports_table_fails_the_render_in_one_line(cli, synced, tmp_path):
    out = synced(FREE, "2026-01-20T00:00:00Z")
    (tmp_path / "catalog.toml").write_text('[exports]\nlitellm = "../outside.yaml"\n')
    result = cli("render", "--db", tmp_path / "reg.db", "--out", out)
    assert result.code == 1
    assert (
        result.err.count("\n") == 1 and "`exports.litellm` must be a file path inside the output folder" in result.err
    )
    assert not (tmp_path / "outside.yaml").exists()
