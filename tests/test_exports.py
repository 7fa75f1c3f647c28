"""Gateway exports: the YAML writer, the LiteLLM config's shape (deployments, order, fallbacks, the
key only as an environment reference), the OpenRouter fragment and `catalog pick`, and the guard
that keeps paid and down models out of every export. Snapshots are built by hand where the rule
is pure; the CLI runs on a real registry synced from a saved answer."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
import yaml
from fakeapi import catalog_doc
from fakeapi import model as api_model
from test_pools import SEED_LIKE, T0, model, snapshot

from catalog.config.loader import parse_config
from catalog.ingest.normalize import ModelRecord
from catalog.output import exports
from catalog.output.pools import FALLBACK_LIMIT, build_pools
from catalog.output.yamltext import dump, quoted
from catalog.state import FreeModel, ModelHealth

# ---------------------------------------------------------------- the YAML writer

HOSTILE = [
    "",
    "plain",
    'a "quoted" \\ back\\slash',
    "# not a comment",
    "key: value",
    "- not a list",
    "&anchor *alias !tag",
    "yes",
    "No",
    "null",
    "~",
    "1e3",
    "0x1F",
    "12:30",
    "line\nbreak\r\ttab",
    "\x00\x07\x1b\x7f\x85\x9f",
    "\u2028\u2029 separators",
    "\ufeff bom \ufffe \uffff",
    "emoji 😀 and 中文 and café",
    "  leading and trailing  ",
    "{flow: [1, 2]}",
    "%YAML directive",
    "--- document",
    "...",
    "'single'",
    "@at `back`",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_every_string_reads_back_as_itself(text):
    assert yaml.safe_load(quoted(text)) == text
    doc = {"k": text, text or "empty": [text, {"inner": text}]}
    assert yaml.safe_load(dump(doc)) == doc


def test_a_lone_surrogate_becomes_the_replacement_character():
    assert yaml.safe_load(quoted("a\ud800b")) == "a\ufffdb"


def test_nesting_empty_containers_and_scalars_read_back():
    doc = {
        "list": [1, True, False, None, "s", [], {}, ["a", ["b"]], {"x": {"y": [{"z": 1}]}}],
        "empty_map": {},
        "empty_list": [],
        "yes": "a reserved word as a key",
        "with space": 0,
    }
    assert yaml.safe_load(dump(doc)) == doc


# ---------------------------------------------------------------- the data

SEED = snapshot(*SEED_LIKE)


def paid(mid: str, inputs: tuple[str, ...] = ("text",)) -> FreeModel:
    """A model priced above zero, as no snapshot of free models should ever hold."""
    free = model(mid, inputs=inputs, params=("tools",))
    record = replace(free.record, pricing=(("completion", "0.000002"), ("prompt", "0.000001")))
    return replace(free, record=record)


def test_the_litellm_config_has_one_deployment_per_pool_member_in_rank_order():
    pools = build_pools(SEED, parse_config({}))
    doc = exports.litellm_config(pools)
    for name in pools.pools:
        deployments = [d for d in doc["model_list"] if d["model_name"] == name]
        expected = pools.ids(name)
        assert [d["litellm_params"]["model"] for d in deployments] == [f"openrouter/{i}" for i in expected]
        assert [d["litellm_params"]["order"] for d in deployments] == list(range(1, len(expected) + 1))
        assert all(d["litellm_params"]["api_key"] == "os.environ/OPENROUTER_API_KEY" for d in deployments)
    assert doc["router_settings"]["fallbacks"] == [{"SMALL": ["LARGE"]}, {"CODE": ["LARGE"]}]
    assert yaml.safe_load(exports.litellm_yaml(pools)) == doc


def test_custom_pools_are_model_groups_too():
    pools = build_pools(SEED, parse_config({"pools": {"LONG": {"min_context": 200000}}}))
    names = {d["model_name"] for d in exports.litellm_config(pools)["model_list"]}
    assert "LONG" in names
    assert pools.ids("LONG")


def test_an_empty_pool_is_no_group_and_no_fallback_names_it():
    cfg = parse_config({"pools": {"LARGE": {"include": ["nothing/*"]}}})
    pools = build_pools(SEED, cfg)
    assert pools.ids("LARGE") == []
    doc = exports.litellm_config(pools)
    assert "LARGE" not in {d["model_name"] for d in doc["model_list"]}
    assert doc["router_settings"]["fallbacks"] == []


def test_a_paid_model_never_reaches_an_export_even_inside_a_pool():
    # No snapshot of free models holds a paid one; put it straight into a pool to test the guard.
    pools = build_pools(SEED, parse_config({}))
    intruder = build_pools(snapshot(paid("evil/paid-coder")), parse_config({})).pools["CODE"][0]
    pools.pools["CODE"].insert(0, intruder)
    assert pools.ids("CODE")[0] == "evil/paid-coder"
    text = exports.litellm_yaml(pools) + exports.openrouter_json(pools, "CODE")
    assert "evil/paid-coder" not in text
    assert exports.pick(pools, "CODE") != "evil/paid-coder"


def test_a_model_measured_down_never_reaches_an_export_even_inside_a_pool():
    pools = build_pools(SEED, parse_config({}))
    first = pools.pools["SMALL"][0]
    down = replace(first, profile=first.profile._replace(unusable="down at the last health sample"))
    pools.pools["SMALL"][0] = down
    assert first.id not in exports.openrouter_fragment(pools, "SMALL")["models"]
    small = [d for d in exports.litellm_config(pools)["model_list"] if d["model_name"] == "SMALL"]
    assert small and f"openrouter/{first.id}" not in {d["litellm_params"]["model"] for d in small}


def test_a_model_down_at_its_health_sample_is_left_out():
    first = build_pools(SEED, parse_config({})).ids("SMALL")[0]
    measured = replace(SEED, health={first: ModelHealth(state="down", status=-5, endpoints=1, sampled_at=T0)})
    pools = build_pools(measured, parse_config({}))
    assert first not in exports.openrouter_fragment(pools, "SMALL")["models"]
    assert exports.pick(pools, "SMALL") != first


def test_the_fragment_holds_at_most_three_ids_best_first_from_the_first_pool():
    pools = build_pools(SEED, parse_config({}))
    assert FALLBACK_LIMIT == 3
    assert exports.openrouter_fragment(pools) == {"models": pools.ids("SMALL")[:3]}
    assert exports.openrouter_fragment(pools, "CODE") == {"models": pools.ids("CODE")[:3]}
    reordered = build_pools(SEED, parse_config({"pools": {"order": ["VISION"]}}))
    assert exports.openrouter_fragment(reordered) == {"models": reordered.ids("VISION")[:3]}


def test_an_unknown_pool_names_the_pools():
    pools = build_pools(SEED, parse_config({}))
    with pytest.raises(Exception, match="no pool named 'NOPE'; the pools are SMALL, LARGE, CODE, VISION"):
        exports.pick(pools, "NOPE")


# ---------------------------------------------------------------- the commands, on a real registry

FREE = [
    api_model("qwen/qwen3-coder:free", name="Qwen: Qwen3 Coder (free)", context_length=262000),
    api_model("mistralai/devstral-small:free", name="Mistral: Devstral Small (free)"),
    api_model("meta-llama/llama-3.3-70b-instruct:free", name="Meta: Llama 3.3 70B Instruct (free)"),
    api_model("qwen/qwen3-4b:free", name="Qwen: Qwen3 4B (free)", context_length=40960),
]
PAID = [  # paid twins and paid coders: better by every pool rule, and never allowed out
    api_model("qwen/qwen3-coder", prompt="0.0000002", completion="0.0000008", context_length=1048576),
    api_model("openai/gpt-codex-max", prompt="0.000001", completion="0.000004", context_length=1048576),
    api_model("meta-llama/llama-3.1-405b-instruct", prompt="0.000003", completion="0.000003"),
]


@pytest.fixture
def registry(cli, answer_file, tmp_path):
    db = tmp_path / "reg.db"
    first = answer_file(catalog_doc(FREE + PAID))
    assert (
        cli("sync", "--db", db, "--from-file", first, "--no-render", "--observed-at", "2026-01-20T00:00:00Z").code == 0
    )
    later = answer_file(catalog_doc(FREE[:2] + PAID))  # the 70B and the 4B stop being free
    assert (
        cli("sync", "--db", db, "--from-file", later, "--no-render", "--observed-at", "2026-01-21T00:00:00Z").code == 0
    )
    return db


def test_export_litellm_holds_only_free_models_and_no_literal_key(cli, registry, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-secret-value")
    result = cli("export", "litellm", "--db", registry)
    assert result.code == 0, result.err
    assert "sk-or-v1-secret-value" not in result.out + result.err
    doc = yaml.safe_load(result.out)
    models = {d["litellm_params"]["model"] for d in doc["model_list"]}
    assert models == {"openrouter/qwen/qwen3-coder:free", "openrouter/mistralai/devstral-small:free"}
    assert {d["model_name"] for d in doc["model_list"]} == {"CODE"}
    assert {d["litellm_params"]["api_key"] for d in doc["model_list"]} == {"os.environ/OPENROUTER_API_KEY"}
    for paid_model in PAID:
        assert paid_model["id"] + '"' not in result.out


def test_time_travel_exports_the_pools_of_then(cli, registry):
    now = cli("export", "openrouter", "--db", registry, "--pool", "LARGE")
    assert now.code == 0 and now.json() == {"models": []}
    then = cli("export", "openrouter", "--db", registry, "--pool", "LARGE", "--at", "2026-01-20T12:00:00Z")
    assert then.json() == {"models": ["meta-llama/llama-3.3-70b-instruct:free"]}
    assert cli("pick", "SMALL", "--db", registry, "--at", "2026-01-20T12:00:00Z").out == "qwen/qwen3-4b:free\n"
    before = cli("pick", "CODE", "--db", registry, "--at", "2026-01-01T00:00:00Z")
    assert before.code == 1
    assert before.err == "catalog: error: the registry has no successful sync at or before 2026-01-01T00:00:00Z\n"


def test_pick_prints_one_id_for_a_shell(cli, registry):
    result = cli("pick", "CODE", "--db", registry)
    assert (result.code, result.out, result.err) == (0, "qwen/qwen3-coder:free\n", "")


def test_pick_on_an_empty_pool_is_exit_1_and_one_line_naming_the_pools_with_models(cli, registry):
    result = cli("pick", "LARGE", "--db", registry)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "catalog: error: pool LARGE has no free model that is up right now; pools with a model now: CODE\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pick", "NOPE"], "pick NOPE: no such pool; the pools are SMALL, LARGE, CODE, VISION"),
        (["export", "openrouter", "--pool", "NOPE"], "--pool NOPE: no such pool; the pools are SMALL, LARGE, CODE"),
    ],
)
def test_an_unknown_pool_is_exit_1_and_one_line_listing_the_pools(cli, registry, args, message):
    result = cli(*args, "--db", registry)
    assert (result.code, result.out) == (1, "")
    assert result.err.count("\n") == 1 and message in result.err


def test_a_switched_off_pool_is_refused(cli, registry, tmp_path):
    (tmp_path / "catalog.toml").write_text("[pools.CODE]\nenabled = false\n")
    result = cli("pick", "CODE", "--db", registry)
    assert result.code == 1
    assert "pick CODE: that pool is switched off (pools.CODE.enabled = false)" in result.err


def test_the_commands_need_a_synced_registry(cli, tmp_path):
    result = cli("export", "litellm", "--db", tmp_path / "none.db")
    assert result.code == 1 and result.out == "" and result.err.count("\n") == 1


def test_export_openrouter_is_json_for_any_client(cli, registry):
    result = cli("export", "openrouter", "--db", registry, "--pool", "CODE")
    assert result.code == 0
    assert json.loads(result.out) == {"models": ["qwen/qwen3-coder:free", "mistralai/devstral-small:free"]}


def test_the_records_used_here_are_what_they_claim():
    # The guard tests above only mean something if `paid` is paid by the free rule.
    assert not paid("a/b").record.is_free
    assert isinstance(paid("a/b").record, ModelRecord)


def test_the_commands_load_no_database_library_template_engine_or_http_client_on_sqlite(registry):
    """`MODEL=$(catalog pick CODE)` runs in scripts: it reads through plain sqlite3 and starts fast."""
    script = (
        "import json, sys\n"
        "from catalog.cli import main\n"
        "code = main(json.loads(sys.argv[1]))\n"
        "print('LOADED', sorted(m for m in ('sqlalchemy', 'alembic', 'jinja2', 'httpx', 'yaml') if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    for command in (["pick", "CODE"], ["export", "litellm"], ["export", "openrouter"]):
        argv = [*command, "--db", str(registry)]
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(argv)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.rpartition("LOADED ")[2].strip() == "[]", command


def test_pick_and_export_read_either_engine(cli, answer_file, db_url):
    assert cli("sync", "--db", db_url, "--from-file", answer_file(catalog_doc(FREE + PAID)), "--no-render").code == 0
    assert cli("pick", "CODE", "--db", db_url).out == "qwen/qwen3-coder:free\n"
    fragment = cli("export", "openrouter", "--pool", "LARGE", "--db", db_url).json()
    assert fragment == {"models": ["meta-llama/llama-3.3-70b-instruct:free"]}
    doc = yaml.safe_load(cli("export", "litellm", "--db", db_url).out)
    assert {d["model_name"] for d in doc["model_list"]} == {"SMALL", "LARGE", "CODE"}


def test_the_writer_refuses_what_it_cannot_write_faithfully():
    for value in (1.5, {1: "a"}, object()):
        with pytest.raises(TypeError):
            dump({"k": value} if not isinstance(value, dict) else value)
