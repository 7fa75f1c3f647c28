"""Reading commands end to end: models, changes, history in every format, on fixtures and real captures."""

import csv
import io
import re

import pytest
from conftest import capture_time, captures
from fakeapi import catalog_doc, model

DAY1 = catalog_doc(
    [
        model(
            "google/gemma-3-27b-it:free",
            context_length=131072,
            architecture={"input_modalities": ["text", "image"], "modality": "text+image->text"},
        ),
        model("qwen/qwen3-4b:free", context_length=40960, name="Qwen: Qwen3 4B (free) | 中文"),
        model("meta-llama/llama-3.1-405b-instruct:free", context_length=65536),
    ]
)
DAY2 = catalog_doc(
    [
        model(
            "google/gemma-3-27b-it:free",
            context_length=96000,
            architecture={"input_modalities": ["text", "image"], "modality": "text+image->text"},
        ),
        model("meta-llama/llama-3.1-405b-instruct:free", context_length=65536),
        model(
            "qwen/qwen3-4b:free", context_length=40960, name="Qwen: Qwen3 4B (free) | 中文", prompt="1", completion="1"
        ),
        model("google/gemini-2.0-flash-exp:free", context_length=1048576),
    ]
)


@pytest.fixture
def registry(cli, answer_file, db_url):
    for doc, when in ((DAY1, "2026-01-01T00:00Z"), (DAY2, "2026-01-08T00:00Z")):
        out = cli("sync", "--db", db_url, "--from-file", answer_file(doc), "--observed-at", when, "--no-render")
        assert out.code == 0, out.err
    return db_url


def ids(result):
    return [m["id"] for m in result.json()]


def test_models_filters_and_sorts(cli, registry):
    assert ids(cli("models", "--db", registry, "--format", "json")) == [
        "google/gemini-2.0-flash-exp:free",
        "google/gemma-3-27b-it:free",
        "meta-llama/llama-3.1-405b-instruct:free",
        "qwen/qwen3-4b:free",
    ]
    assert ids(cli("models", "--db", registry, "--format", "json", "--vendor", "google")) == [
        "google/gemini-2.0-flash-exp:free",
        "google/gemma-3-27b-it:free",
    ]
    assert ids(cli("models", "--db", registry, "--format", "json", "--min-context", "96000", "--sort", "context")) == [
        "google/gemini-2.0-flash-exp:free",
        "google/gemma-3-27b-it:free",
    ]
    assert ids(cli("models", "--db", registry, "--format", "json", "--modality", "image")) == [
        "google/gemma-3-27b-it:free"
    ]
    first_seen = ids(cli("models", "--db", registry, "--format", "json", "--sort", "first-seen"))
    assert first_seen[-1] == "google/gemini-2.0-flash-exp:free"


def test_models_all_includes_those_that_left(cli, registry):
    rows = {m["id"]: m for m in cli("models", "--db", registry, "--format", "json", "--all").json()}
    qwen = rows["qwen/qwen3-4b:free"]
    assert qwen["is_free"] is True  # the :free suffix keeps it free even when priced
    everything = cli("models", "--db", registry, "--format", "json", "--all", "--at", "2026-01-01")
    assert everything.code == 2


def test_models_all_shows_when_a_model_left(cli, answer_file, registry):
    gone = catalog_doc([m for m in DAY2["data"] if m["id"] != "meta-llama/llama-3.1-405b-instruct:free"])
    cli("sync", "--db", registry, "--from-file", answer_file(gone), "--observed-at", "2026-01-09", "--no-render")
    llama = next(
        m
        for m in cli("models", "--db", registry, "--format", "json", "--all").json()
        if m["id"] == "meta-llama/llama-3.1-405b-instruct:free"
    )
    assert (llama["is_free"], llama["left_at"], llama["left_reason"]) == (False, "2026-01-09T00:00:00Z", "delisted")
    assert llama["last_seen_free"] == "2026-01-08T00:00:00Z"


def test_changes_filters(cli, registry):
    since = cli("changes", "--db", registry, "--format", "json", "--since", "2026-01-02").json()
    assert {e["observed_at"] for e in since} == {"2026-01-08T00:00:00Z"}
    added = cli("changes", "--db", registry, "--format", "json", "--kind", "added").json()
    assert len(added) == 4 and added[0]["model_id"] == "google/gemini-2.0-flash-exp:free"
    ctx = cli("changes", "--db", registry, "--format", "json", "--field", "context_length").json()
    assert [(e["model_id"], e["old"], e["new"]) for e in ctx] == [("google/gemma-3-27b-it:free", 131072, 96000)]
    recent = cli("changes", "--db", registry, "--format", "json", "--last", "7d").json()
    assert recent == []  # the fixture's events are months older than the wall clock
    assert cli("changes", "--db", registry, "--last", "soon").code == 2


def test_history_is_oldest_first_and_unknown_ids_fail(cli, registry):
    timeline = cli("history", "--db", registry, "--format", "json", "qwen/qwen3-4b:free").json()
    assert [(e["kind"], e["field"]) for e in timeline] == [
        ("added", None),
        ("changed", "pricing.completion"),
        ("changed", "pricing.prompt"),
    ]
    missing = cli("history", "--db", registry, "nobody/nothing")
    assert missing.code == 1 and "never free" in missing.err


def test_every_format_parses(cli, registry):
    out = cli("models", "--db", registry, "--format", "csv").out
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert len(parsed) == 4 and parsed[0]["id"] == "google/gemini-2.0-flash-exp:free"
    table = cli("models", "--db", registry, "--format", "table").out.splitlines()
    assert table[0].split()[:3] == ["id", "name", "vendor"] and len(table) == 2 + 4
    markdown = cli("changes", "--db", registry, "--format", "markdown").out.splitlines()
    cells = [len(re.findall(r"(?<!\\)\|", line)) for line in markdown]
    assert len(markdown) == 2 + 8 and set(cells) == {9}


def test_time_travel_gives_each_real_capture_back(cli):
    paths = captures()[::9]
    for path in paths:
        assert (
            cli("sync", "--db", "r.db", "--from-file", path, "--observed-at", capture_time(path), "--no-render").code
            == 0
        )
    import json as _json
    from decimal import Decimal

    for path in paths:
        data = _json.loads(path.read_bytes())["data"]
        free = {
            m["id"]
            for m in data
            if m["id"].endswith(":free")
            or (
                m["pricing"].get("prompt") is not None
                and m["pricing"].get("completion") is not None
                and Decimal(m["pricing"]["prompt"]) == 0
                and Decimal(m["pricing"]["completion"]) == 0
            )
        }
        assert set(ids(cli("models", "--db", "r.db", "--format", "json", "--at", capture_time(path)))) == free
