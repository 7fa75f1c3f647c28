"""Replay the real hourly captures: the registry must tell the same story as the captures.

The expectations are computed here, independently of catalog's own code, straight from the JSON.
The five captures in tests/fixtures hold the events checked by name; where ../shared holds all 54,
those are replayed instead.
"""

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from conftest import all_captures, capture_time


def independent_free(path: Path) -> tuple[dict[str, dict], set[str]]:
    data = json.loads(path.read_bytes())["data"]

    def price(m, key):
        try:
            return Decimal(str((m.get("pricing") or {})[key]))
        except (KeyError, InvalidOperation, TypeError):
            return None

    def free(m):
        prompt, completion = price(m, "prompt"), price(m, "completion")
        return m["id"].endswith(":free") or (prompt == 0 and completion == 0)

    return {m["id"]: m for m in data if free(m)}, {m["id"] for m in data}


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    from catalog.settings import Settings
    from catalog.sync import run_once

    paths = all_captures()
    db = tmp_path_factory.mktemp("replay") / "replay.db"
    from catalog.commands.cliutil import parse_time_arg

    for path in paths:
        run_once(Settings(db=str(db), from_file=path, observed_at=parse_time_arg(capture_time(path)), render=False))
    return db, paths


def test_free_set_and_context_at_every_capture(replayed, cli):
    db, paths = replayed
    for path in paths:
        expected, _ = independent_free(path)
        got = cli("models", "--db", db, "--format", "json", "--at", capture_time(path)).json()
        assert {m["id"] for m in got} == set(expected), path.name
        assert {m["id"]: m["context_length"] for m in got} == {
            i: m.get("context_length") for i, m in expected.items()
        }, path.name


def test_events_match_the_captures_differences(replayed, cli):
    db, paths = replayed
    events = cli("changes", "--db", db, "--format", "json").json()
    by_time: dict[str, set] = {}
    for e in events:
        if e["kind"] != "changed" or e["field"] == "context_length":
            by_time.setdefault(e["observed_at"], set()).add((e["model_id"], e["kind"], e["reason"], e["old"], e["new"]))

    ever_free: set[str] = set()
    previous: dict[str, dict] = {}
    last_free_state: dict[str, dict] = {}
    for path in paths:
        free, listed = independent_free(path)
        expected = set()
        for mid in free.keys() - previous.keys():
            expected.add((mid, "returned" if mid in ever_free else "added", None, None, None))
            old = last_free_state.get(mid)
            if old is not None and old.get("context_length") != free[mid].get("context_length"):
                expected.add((mid, "changed", None, old.get("context_length"), free[mid].get("context_length")))
        for mid in previous.keys() - free.keys():
            expected.add((mid, "removed", "now_paid" if mid in listed else "delisted", None, None))
        for mid in free.keys() & previous.keys():
            if previous[mid].get("context_length") != free[mid].get("context_length"):
                expected.add(
                    (mid, "changed", None, previous[mid].get("context_length"), free[mid].get("context_length"))
                )
        assert by_time.get(capture_time(path), set()) == expected, path.name
        ever_free |= free.keys()
        last_free_state.update(free)
        previous = free


def test_real_history_holds_the_known_events(replayed, cli):
    """Spot checks of what really happened in those weeks (see shared/openrouter/README.md)."""
    db, _ = replayed
    history = cli("history", "--db", db, "--format", "json", "qwen/qwen3-4b:free").json()
    assert [e["kind"] for e in history][:3] == ["added", "removed", "returned"]
    coder = cli(
        "changes", "--db", db, "--format", "json", "--model", "qwen/qwen3-coder:free", "--field", "context_length"
    ).json()
    assert len(coder) == 2 and coder[0]["old"] == coder[1]["new"]  # changed, then changed back
    molmo = cli("history", "--db", db, "--format", "json", "allenai/molmo-2-8b").json()
    assert [(e["kind"], e["reason"]) for e in molmo] == [("added", None), ("removed", "delisted")]


def test_storage_grows_with_changes_not_runs(replayed):
    import sqlite3

    db, paths = replayed
    with sqlite3.connect(db) as conn:
        runs = conn.execute("select count(*) from runs").fetchone()[0]
        versions = conn.execute("select count(*) from model_versions").fetchone()[0]
        models = conn.execute("select count(*) from models").fetchone()[0]
        opened = conn.execute(
            "select count(*) from events e where kind in ('added','returned') or "
            "(kind = 'changed' and not exists (select 1 from events r where r.run_id = e.run_id and "
            "r.model_id = e.model_id and r.kind = 'returned') and e.id = (select min(id) from events c where "
            "c.run_id = e.run_id and c.model_id = e.model_id and c.kind = 'changed'))"
        ).fetchone()[0]
    assert runs == len(paths)
    assert versions == opened  # one version per membership start or per changed model-run, no more
    assert models < versions <= models + 200
