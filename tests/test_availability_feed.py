"""free-models.json, the availability feed, and its JSON Schema: every feed rendered while the real
captures are replayed validates; gone models within the grace window carry a replacement that is
free now, and those outside it are absent; statuses; the same registry gives the same bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, SNAPSHOTS, XIE, all_captures, capture_time
from fakeapi import catalog_doc, model

from catalog.config.pools import PoolConfig
from catalog.ingest.normalize import ModelRecord
from catalog.output.availability_feed import FEED_FILE, SCHEMA_FILE, feed_document, feed_files
from catalog.output.pools import build_pools
from catalog.registry.history import History
from catalog.settings import Settings
from catalog.state import FreeModel, ModelHealth, ProbeRecord, Snapshot
from catalog.sync import run_once

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
PAID = {"prompt": "0.000001", "completion": "0.000002"}


def schema() -> dict:
    return json.loads(files("catalog.output").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


# ---------------------------------------------------------------- the schema itself


def test_the_schema_ships_in_the_package_and_is_valid_2020_12():
    doc = schema()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc["properties"]["schema_version"]["const"] == 1
    assert doc["$defs"]["model"]["properties"]["status"]["enum"] == [
        "active",
        "degraded",
        "down",
        "expiring",
        "blocked",
    ]


def described(node: dict, where: str, missing: list[str]) -> None:
    """Every property, at any depth, carries a description."""
    for name, sub in node.get("properties", {}).items():
        if "description" not in sub:
            missing.append(f"{where}.{name}")
        described(sub, f"{where}.{name}", missing)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            described(node[key], f"{where}[]", missing)
    for i, sub in enumerate(node.get("oneOf", [])):
        described(sub, f"{where}|{i}", missing)


def test_every_field_is_described():
    doc, missing = schema(), []
    described(doc, "$", missing)
    for name, sub in doc["$defs"].items():
        described(sub, name, missing)
    assert missing == []


def keys_of(value, prefix=""):
    """Every object key path of a document (list items as [])."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield f"{prefix}.{key}"
            yield from keys_of(sub, f"{prefix}.{key}")
    elif isinstance(value, list):
        for sub in value:
            yield from keys_of(sub, f"{prefix}[]")


def schema_keys(node: dict, defs: dict, prefix="") -> set[str]:
    """Every key path the schema names, following $ref, oneOf and items."""
    if "$ref" in node:
        return schema_keys(defs[node["$ref"].rsplit("/", 1)[1]], defs, prefix)
    found: set[str] = set()
    for name, sub in node.get("properties", {}).items():
        found.add(f"{prefix}.{name}")
        found |= schema_keys(sub, defs, f"{prefix}.{name}")
    if isinstance(node.get("items"), dict):
        found |= schema_keys(node["items"], defs, f"{prefix}[]")
    for sub in node.get("oneOf", []):
        found |= schema_keys(sub, defs, prefix)
    return found


# ---------------------------------------------------------------- every real capture replayed


def capture_sets() -> dict[str, list[Path]]:
    """Each folder of real captures, oldest first: the 54 hourly ones where ../shared holds them
    (else the fixtures' five), and every other folder there (else the fixtures')."""
    root = SNAPSHOTS if SNAPSHOTS.is_dir() else FIXTURES / "captures"
    sets = {XIE.name: all_captures()}
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and folder.name != XIE.name:
            sets[folder.name] = sorted(folder.glob("*.json"))
    return {name: paths for name, paths in sets.items() if paths}


def independent_free(path: Path) -> set[str]:
    """The free ids of a capture, read here from the JSON (a `:free` id, or priced 0 and 0)."""
    from decimal import Decimal, InvalidOperation

    def zero(m, key):
        try:
            return Decimal(str((m.get("pricing") or {})[key])) == 0
        except (KeyError, InvalidOperation, TypeError):
            return False

    data = json.loads(path.read_bytes())["data"]
    return {m["id"] for m in data if m["id"].endswith(":free") or (zero(m, "prompt") and zero(m, "completion"))}


@pytest.mark.parametrize("name", sorted(capture_sets()))
def test_every_feed_of_every_replayed_capture_validates(name, tmp_path):
    check, paths = validator(), capture_sets()[name]
    db, out = tmp_path / "reg.db", tmp_path / "out"
    doc_keys: set[str] = set()
    known = schema_keys(schema(), schema()["$defs"])
    for path in paths:
        observed = datetime.fromisoformat(capture_time(path).replace("Z", "+00:00"))
        result = run_once(Settings(db=str(db), from_file=path, observed_at=observed, out_dir=out))
        assert result.render_error is None, path.name
        doc = json.loads((out / FEED_FILE).read_text(encoding="utf-8"))
        errors = sorted(check.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{path.name}: {errors[0].message} at {list(errors[0].path)}"
        free = {m["id"] for m in doc["models"]}
        assert free == independent_free(path), path.name
        assert doc["free_count"] == len(doc["models"]) and doc["generated_at"] <= capture_time(path)
        assert {i for ids in doc["pools"].values() for i in ids} <= free
        usable = {m["id"] for m in doc["models"] if m["status"] not in ("down", "blocked")}
        for gone in doc["gone"]:
            assert gone["id"] not in free, path.name
            assert gone["replacement"] is None or gone["replacement"] in usable, path.name
        doc_keys |= set(keys_of(doc))
        shipped = files("catalog.output").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
        assert (out / SCHEMA_FILE).read_text(encoding="utf-8") == shipped  # written beside, as shipped
    # Nothing is written that the schema does not name (pool names are its map's keys).
    pools = {k for k in doc_keys if k.startswith(".pools.")}
    assert doc_keys - pools - known == set()


# ---------------------------------------------------------------- the grace window


@pytest.fixture
def departed(tmp_path, answer_file):
    """Day 0: five free models. Day 1: a/alpha-7b delisted. Day 10: b/beta-8b made paid, c/gamma-7b
    delisted. Day 11: c/gamma-7b back. Day 20: the newest run, as day 11."""
    db, out = tmp_path / "reg.db", tmp_path / "out"
    start = [
        model("a/alpha-7b:free"),
        model("b/beta-8b"),
        model("c/gamma-7b:free"),
        model("a/apex-8b:free"),
        model("b/bolt-9b:free"),
    ]
    day1 = [m for m in start if m["id"] != "a/alpha-7b:free"]
    day10 = [model("b/beta-8b", pricing=PAID), model("a/apex-8b:free"), model("b/bolt-9b:free")]
    day11 = [*day10, model("c/gamma-7b:free")]
    for day, models in ((0, start), (1, day1), (10, day10), (11, day11), (20, day11)):
        path = answer_file(catalog_doc(models))
        run_once(Settings(db=str(db), from_file=path, observed_at=T0 + timedelta(days=day), out_dir=out))
    return db, out, path


def feed(out: Path) -> dict:
    return json.loads((out / FEED_FILE).read_text(encoding="utf-8"))


def test_gone_within_the_window_with_a_replacement_free_now(departed):
    _, out, _ = departed
    doc = feed(out)
    assert not list(validator().iter_errors(doc))
    free = {m["id"] for m in doc["models"]}
    assert free == {"a/apex-8b:free", "b/bolt-9b:free", "c/gamma-7b:free"}
    # Day 10 is within 14 days of day 20; day 1 is not; gamma came back, so it is not gone.
    assert [g["id"] for g in doc["gone"]] == ["b/beta-8b"]
    beta = doc["gone"][0]
    assert beta["reason"] == "no_longer_free" and beta["gone_since"] == "2026-01-11T08:00:00Z"
    assert beta["last_pools"] == ["SMALL"]
    assert beta["replacement"] in free
    assert beta["replacement"] == doc["pools"]["SMALL"][0]


def test_a_wider_window_brings_older_departures_back_and_zero_keeps_only_today(departed, cli):
    db, _, _ = departed
    (Path.cwd() / "catalog.toml").write_text("[feed]\ngrace_days = 19\n")
    assert cli("render", "--db", db, "--out", "wide").code == 0
    wide = feed(Path("wide"))
    assert [g["id"] for g in wide["gone"]] == ["b/beta-8b", "a/alpha-7b:free"]
    alpha = wide["gone"][1]
    assert alpha["reason"] == "delisted" and alpha["replacement"] in {m["id"] for m in wide["models"]}
    # Nothing in the pools it was last in is free now but its vendor's nearest size is.
    (Path.cwd() / "catalog.toml").write_text("[feed]\ngrace_days = 0\n")
    assert cli("render", "--db", db, "--out", "none").code == 0
    assert feed(Path("none"))["gone"] == []


def test_the_same_registry_gives_the_same_bytes_and_a_resync_leaves_the_feed_alone(departed, cli):
    db, out, newest = departed
    before = (out / FEED_FILE).stat()
    text = (out / FEED_FILE).read_bytes()
    assert cli("render", "--db", db, "--out", "again").code == 0
    assert Path("again", FEED_FILE).read_bytes() == text
    # The same answer an hour later: a new run, nothing new in the feed, the file left alone.
    later = T0 + timedelta(days=20, hours=1)
    run_once(Settings(db=str(db), from_file=newest, observed_at=later, out_dir=out))
    after = (out / FEED_FILE).stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert (out / FEED_FILE).read_bytes() == text
    assert feed(out)["generated_at"] == "2026-01-12T08:00:00Z"  # the newest change: gamma's return


# ---------------------------------------------------------------- statuses and facts, by hand


def free_model(mid, *, params=(), inputs=("text",), expires=None):
    record = ModelRecord(
        id=mid,
        name=mid,
        context_length=131072,
        input_modalities=inputs,
        output_modalities=("text",),
        supported_parameters=params,
        pricing=(("completion", "0"), ("prompt", "0")),
        expiration_date=expires,
    )
    return FreeModel(record=record, first_seen_free=T0, free_since=T0, times_removed=0)


def test_status_capabilities_health_and_probe():
    now = T0 + timedelta(days=5)
    blocked_probe = ProbeRecord("v/blocked-7b:free", "blocked_by_account", now - timedelta(hours=1))
    health = {
        "v/down-7b:free": ModelHealth(state="down", endpoints=0, sampled_at=now),
        "v/slow-7b:free": ModelHealth(state="degraded", status=-2, uptime_1d=91.5, sampled_at=now),
        "v/blocked-7b:free": ModelHealth(last_probe=blocked_probe),
        "v/fine-7b:free": ModelHealth(
            state="up", uptime_1d=99.9, availability_7d=0.98, latency_p50_ms=812.0, sampled_at=now
        ),
    }
    models = [
        free_model("v/down-7b:free"),
        free_model("v/slow-7b:free"),
        free_model("v/blocked-7b:free"),
        free_model("v/fine-7b:free", params=("tools", "structured_outputs", "reasoning"), inputs=("image", "text")),
        free_model("v/soon-7b:free", expires=(now + timedelta(days=3)).date().isoformat()),
        free_model("v/later-7b:free", expires="2098-12-31"),
    ]
    snap = Snapshot(
        models=tuple(sorted(models, key=lambda m: m.id)),
        observed_at=now,
        last_changed_at=T0,
        source="test",
        recent_events=(),
        health=health,
        health_at=now,
    )
    history = History("0123456789abcdef", T0, now, (), ((now, 6),), ())
    doc = feed_document(snap, build_pools(snap, PoolConfig()), history, ())
    assert not list(validator().iter_errors(doc))
    by_id = {m["id"]: m for m in doc["models"]}
    status = {mid: m["status"] for mid, m in by_id.items()}
    assert status == {
        "v/down-7b:free": "down",
        "v/slow-7b:free": "degraded",
        "v/blocked-7b:free": "blocked",
        "v/fine-7b:free": "active",
        "v/soon-7b:free": "expiring",
        "v/later-7b:free": "active",
    }
    fine = by_id["v/fine-7b:free"]
    assert fine["capabilities"] == {"tools": True, "reasoning": True, "vision": True, "structured_outputs": True}
    assert fine["health"] == {
        "state": "up",
        "uptime_1d": 99.9,
        "availability_7d": 0.98,
        "latency_p50_ms": 812.0,
        "sampled_at": "2026-01-06T08:00:00Z",
    }
    assert by_id["v/blocked-7b:free"]["health"] is None
    assert by_id["v/blocked-7b:free"]["last_probe"] == {
        "outcome": "blocked_by_account",
        "at": "2026-01-06T07:00:00Z",
        "ttft_ms": None,
    }
    assert by_id["v/soon-7b:free"]["expires_at"] == "2026-01-09"
    # Neither down nor blocked models are in a pool; the newest measurement is the feed's time.
    assert by_id["v/down-7b:free"]["pools"] == [] and by_id["v/blocked-7b:free"]["pools"] == []
    assert doc["generated_at"] == "2026-01-06T08:00:00Z"
    assert doc["registry"] == "0123456789abcdef" and doc["free_count"] == 6


def test_blocked_is_never_said_without_data_for_it():
    snap = Snapshot(
        models=(free_model("v/a-7b:free"),),
        observed_at=T0,
        last_changed_at=T0,
        source="test",
        recent_events=(),
    )
    history = History("0123456789abcdef", T0, T0, (), ((T0, 1),), ())
    doc = feed_document(snap, build_pools(snap, PoolConfig()), history, ())
    assert [m["status"] for m in doc["models"]] == ["active"]
    assert doc["models"][0]["health"] is None and doc["models"][0]["last_probe"] is None


def test_one_model_a_line_whatever_the_api_text():
    """Names that look like the boundary between two objects stay inside their string."""
    hostile = ['x}, {"id": "y', "\u2028line\nbreak", '}, {\\"id\\": ', "caf\u00e9 \ud800"]
    models = [free_model(f"v/m{i}-7b:free") for i in range(len(hostile))]
    models = [FreeModel(replace_name(m.record, name), T0, T0, 0) for m, name in zip(models, hostile)]
    snap = Snapshot(models=tuple(models), observed_at=T0, last_changed_at=T0, source="test", recent_events=())
    history = History("0123456789abcdef", T0, T0, (), ((T0, 4),), ())
    doc = feed_document(snap, build_pools(snap, PoolConfig()), history, ())
    text = feed_files(snap, build_pools(snap, PoolConfig()), history, ())[FEED_FILE]
    assert json.loads(text) == doc and text.isascii()
    lines = text.splitlines()
    start = lines.index('  "models": [')
    assert [json.loads(line.rstrip(","))["name"] for line in lines[start + 1 : start + 5]] == hostile
    assert lines[start + 5] == "  ],"


def replace_name(record: ModelRecord, name: str) -> ModelRecord:
    from dataclasses import replace

    return replace(record, name=name)
