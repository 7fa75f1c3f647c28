"""The schema belongs to Alembic: migrations match the code's tables, and old registries upgrade."""

import sqlite3

from conftest import rows
from fakeapi import catalog_doc, model


def test_migrations_match_the_tables(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from catalog.registry.db import open_registry
    from catalog.registry.schema import Base

    engine = open_registry(str(tmp_path / "m.db"))
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diffs == []


def test_an_older_registry_is_upgraded_by_sync(cli, tmp_path, answer_file):
    from alembic import command
    from catalog.registry.db import write_engine
    from catalog.registry.migrate import alembic_config

    engine = write_engine(str(tmp_path / "old.db"))
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    engine.dispose()
    reader = cli("models", "--db", "old.db")
    assert reader.code == 1 and "older schema; run `catalog db upgrade" in reader.err
    out = cli("sync", "--db", "old.db", "--from-file", answer_file(catalog_doc([model("a/b:free")])), "--no-render")
    assert out.code == 0, out.err
    assert rows(tmp_path / "old.db", "select id, vendor from free_models_now") == [("a/b:free", "a")]


def test_views_answer_the_documented_questions(cli, tmp_path, answer_file):
    first = answer_file(catalog_doc([model("a/b:free"), model("c/d:free", context_length=8192)]))
    second = answer_file(catalog_doc([model("a/b:free", context_length=200000)]))
    cli("sync", "--db", "v.db", "--from-file", first, "--observed-at", "2026-01-01", "--no-render")
    cli(
        "sync",
        "--db",
        "v.db",
        "--from-file",
        second,
        "--observed-at",
        "2026-01-02",
        "--no-render",
        "--allow-mass-removal",
    )
    db = tmp_path / "v.db"
    assert rows(db, "select id, context_length from free_models_now") == [("a/b:free", 200000)]
    assert rows(db, "select model_id, kind, reason, run_source from change_events where kind = 'removed'") == [
        ("c/d:free", "removed", "delisted", f"file:{second}")
    ]
    assert rows(db, "select count(*), sum(added), sum(removed) from sync_runs where status = 'ok'") == [(2, 2, 1)]
    with sqlite3.connect(db) as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'view'")}
    assert names == {
        "free_models_now",
        "change_events",
        "sync_runs",
        "health_samples",
        "probe_results",
        "model_health_now",
    }


def test_the_readers_head_revision_is_the_scripts_head():
    from catalog.registry import migrate

    assert migrate.head_revision() == migrate.HEAD_REVISION
