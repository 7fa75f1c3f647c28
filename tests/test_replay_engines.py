"""The real captures (the fixtures' five, or all 54 where ../shared holds them) replayed into SQLite and into PostgreSQL tell the same story, byte for byte:
`models --at` every capture, `changes`, every model's `history`, and the rendered files."""

from __future__ import annotations

import re

import pytest
from conftest import GENERATED_FILES, all_captures, capture_time


def replay(db: str, out) -> None:
    from catalog.commands.cliutil import parse_time_arg
    from catalog.settings import Settings
    from catalog.sync import run_once

    paths = all_captures()
    for i, path in enumerate(paths):
        last = i == len(paths) - 1  # render once, after the newest capture
        run_once(
            Settings(db=db, from_file=path, observed_at=parse_time_arg(capture_time(path)), render=last, out_dir=out)
        )


@pytest.fixture(scope="module")
def engines(tmp_path_factory, pg_server):
    folder = tmp_path_factory.mktemp("engines")
    registries = {"sqlite": str(folder / "replay.db"), "postgresql": pg_server.url(pg_server.new_database())}
    for name, db in registries.items():
        replay(db, folder / f"out-{name}")
    return folder, registries


def both(cli, engines, *args) -> list[str]:
    _, registries = engines
    outputs = []
    for db in registries.values():
        result = cli(*args, "--db", db)
        assert result.code == 0, (args, result.err)
        outputs.append(result.out)
    return outputs


def test_models_at_every_capture_are_identical(cli, engines):
    for path in all_captures():
        for fmt in ("json", "csv"):
            sqlite, postgresql = both(cli, engines, "models", "--at", capture_time(path), "--format", fmt)
            assert sqlite == postgresql and sqlite.strip(), path.name
    sqlite, postgresql = both(cli, engines, "models", "--all", "--format", "json")
    assert sqlite == postgresql


def test_changes_and_every_history_are_identical(cli, engines):
    sqlite, postgresql = both(cli, engines, "changes", "--format", "json")
    assert sqlite == postgresql and len(sqlite) > 1000
    import json

    for model_id in sorted({event["model_id"] for event in json.loads(sqlite)}):
        a, b = both(cli, engines, "history", model_id, "--format", "json")
        assert a == b, model_id


def test_rendered_files_and_pools_are_identical(cli, engines):
    folder, _ = engines

    def read(name: str) -> dict[str, bytes]:  # the "Rebuild: catalog render --out DIR" line names each folder
        out = folder / f"out-{name}"
        # Each registry is its own feed: its id hashes the first run's start (a wall-clock time).
        return {
            p.name: re.sub(
                rb'(registry/|"registry": ")[0-9a-f]{16}', rb"\1ID", p.read_bytes().replace(str(out).encode(), b"OUT")
            )
            for p in out.iterdir()
        }

    files = {name: read(name) for name in ("sqlite", "postgresql")}
    assert sorted(files["sqlite"]) == GENERATED_FILES
    assert files["sqlite"] == files["postgresql"]
    sqlite, postgresql = both(cli, engines, "pools", "--format", "json", "--explain")
    assert sqlite == postgresql
