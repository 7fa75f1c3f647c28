"""`catalog sync` end to end: the real CLI against a real HTTP server on 127.0.0.1."""

import hashlib
import json
import sqlite3
from pathlib import Path

from conftest import rows
from fakeapi import catalog_doc, error_reply, model

BASE = [
    model("google/gemma-3-27b-it:free", context_length=131072),
    model("meta-llama/llama-3.3-70b-instruct:free", context_length=131072),
    model("qwen/qwen3-coder:free", context_length=262144),
    model("openai/gpt-4o", prompt="0.0000025", completion="0.00001"),
]


def sync(cli, api, *extra, db="reg.db"):
    return cli("sync", "--db", db, "--api-url", api.url, "--no-render", "--timeout", "2", *extra)


def db_digest(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()


def test_first_then_changed_sync(cli, fake_api, tmp_path, db_url):
    fake_api.serve(catalog_doc(BASE))
    first = sync(cli, fake_api, "--observed-at", "2026-01-01T00:00:00Z", db=db_url)
    assert first.code == 0, first.err
    assert first.out.startswith("4 models, 3 free: +3 added, 0 returned, -0 removed, 0 changed (")
    assert first.err == ""

    fake_api.serve(
        catalog_doc(
            [
                model("google/gemma-3-27b-it:free", context_length=96000),  # context changed
                model("qwen/qwen3-coder:free", context_length=262144),
                model(
                    "meta-llama/llama-3.3-70b-instruct:free", prompt="0.1", completion="0.1"
                ),  # priced, free by its suffix
                model("openai/gpt-4o", prompt="0", completion="0"),  # now free by price
                model("deepseek/deepseek-r1-0528:free"),
            ]
        )
    )
    second = sync(cli, fake_api, "--observed-at", "2026-01-02T00:00:00Z", db=db_url)
    assert second.code == 0, second.err
    assert second.out.startswith("5 models, 5 free: +2 added, 0 returned, -0 removed, 4 changed")

    changes = cli("changes", "--db", db_url, "--format", "json").json()
    latest = [c for c in changes if c["observed_at"] == "2026-01-02T00:00:00Z"]
    assert {(c["model_id"], c["kind"], c["field"]) for c in latest} == {
        ("deepseek/deepseek-r1-0528:free", "added", None),
        ("openai/gpt-4o", "added", None),
        ("google/gemma-3-27b-it:free", "changed", "context_length"),
        ("google/gemma-3-27b-it:free", "changed", "top_provider.context_length"),
        ("meta-llama/llama-3.3-70b-instruct:free", "changed", "pricing.prompt"),
        ("meta-llama/llama-3.3-70b-instruct:free", "changed", "pricing.completion"),
    }
    ctx = next(c for c in latest if c["field"] == "context_length")
    assert (ctx["old"], ctx["new"]) == (131072, 96000)
    assert changes[0]["observed_at"] >= changes[-1]["observed_at"]  # newest first


def test_removed_and_returned_with_time_travel(cli, fake_api, db_url):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api, "--observed-at", "2026-01-01T00:00Z", db=db_url).code == 0
    fake_api.serve(catalog_doc([*BASE[1:3], model("openai/gpt-4o", prompt="1", completion="1")]))
    out = sync(cli, fake_api, "--observed-at", "2026-01-02T00:00Z", db=db_url)
    assert "-1 removed" in out.out
    fake_api.serve(catalog_doc([*BASE[:2], model("qwen/qwen3-coder:free", prompt="0.5", completion="1")]))
    out = sync(cli, fake_api, "--observed-at", "2026-01-03T00:00Z", db=db_url)
    assert "1 returned" in out.out and "-0 removed" in out.out  # :free suffix keeps qwen free

    def free_at(t):
        return {m["id"] for m in cli("models", "--db", db_url, "--format", "json", "--at", t).json()}

    assert free_at("2026-01-01T12:00Z") == {m["id"] for m in BASE[:3]}
    assert free_at("2026-01-02T00:00Z") == {m["id"] for m in BASE[1:3]}
    assert free_at("2026-01-05") == {m["id"] for m in BASE[:3]}
    assert free_at("2025-12-31") == set()  # before the first sync
    removed = cli("changes", "--db", db_url, "--format", "json", "--kind", "removed").json()
    assert [(e["model_id"], e["reason"]) for e in removed] == [("google/gemma-3-27b-it:free", "delisted")]
    now = cli("models", "--db", db_url, "--format", "json").json()
    gemma = next(m for m in now if m["id"] == "google/gemma-3-27b-it:free")
    assert gemma["first_seen_free"] == "2026-01-01T00:00:00Z" and gemma["free_since"] == "2026-01-03T00:00:00Z"
    assert {"id", "name", "vendor", "context_length"} <= set(gemma)


def test_unchanged_answer_adds_only_a_run_row(cli, fake_api, tmp_path, db_url):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api, db=db_url).code == 0

    def counts() -> list[int]:
        return [rows(db_url, f"select count(*) from {t}")[0][0] for t in ("runs", "models", "model_versions", "events")]

    before = counts()
    again = sync(cli, fake_api, db=db_url)
    assert again.code == 0 and "+0 added" in again.out and "3 free" in again.out
    assert counts() == [before[0] + 1, *before[1:]]


def test_dry_run_writes_nothing(cli, fake_api, tmp_path):
    fake_api.serve(catalog_doc(BASE))
    out = sync(cli, fake_api, "--dry-run")
    assert out.code == 0 and "+ added    qwen/qwen3-coder:free" in out.out and "dry run" in out.out
    assert not (tmp_path / "reg.db").exists()
    assert sync(cli, fake_api).code == 0
    digest = db_digest(tmp_path / "reg.db")
    fake_api.serve(catalog_doc(BASE[:1]))
    out = sync(cli, fake_api, "--dry-run", "--allow-mass-removal")
    assert "- removed  qwen/qwen3-coder:free (delisted)" in out.out
    assert db_digest(tmp_path / "reg.db") == digest


def test_observed_at_must_not_go_backwards(cli, fake_api, tmp_path, db_url):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api, "--observed-at", "2026-01-05T00:00Z", db=db_url).code == 0
    out = sync(cli, fake_api, "--observed-at", "2026-01-04T00:00Z", db=db_url)
    assert out.code == 2 and "earlier than the newest successful run" in out.err
    assert out.err.count("\n") == 1
    assert sync(cli, fake_api, "--observed-at", "2026-01-05T00:00Z", db=db_url).code == 0  # equal is fine


def test_mass_removal_is_refused_unless_allowed(cli, fake_api, tmp_path):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api).code == 0
    digest = db_digest(tmp_path / "reg.db")
    fake_api.serve(catalog_doc(BASE[3:]))  # every free model gone
    out = sync(cli, fake_api)
    assert out.code == 1 and "would remove 3 of the 3 free models" in out.err and "--allow-mass-removal" in out.err
    assert "Traceback" not in out.err
    status = rows(tmp_path / "reg.db", "select status, error from runs order by id")
    assert status[-1][0] == "failed" and "would remove" in status[-1][1]
    assert rows(tmp_path / "reg.db", "select count(*) from models where is_free")[0][0] == 3
    out = sync(cli, fake_api, "--allow-mass-removal")
    assert out.code == 0 and "-3 removed" in out.out
    assert digest != db_digest(tmp_path / "reg.db")


def test_failed_fetch_records_a_failed_run_and_changes_nothing(cli, fake_api, tmp_path, db_url):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api, db=db_url).code == 0
    before = rows(db_url, "select * from model_versions")
    fake_api.serve(error_reply(404, "no such endpoint"))
    out = sync(cli, fake_api, db=db_url)
    assert out.code == 1 and out.err.startswith("catalog: error: ") and out.err.count("\n") == 1
    assert rows(db_url, "select * from model_versions") == before
    last = rows(db_url, "select status, error from runs order by id desc limit 1")[0]
    assert last[0] == "failed" and "404" in last[1]
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api, db=db_url).code == 0  # and the next sync works


def test_malformed_entries_are_skipped_with_a_warning(cli, fake_api, tmp_path, db_url):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api, db=db_url).code == 0
    broken = dict(BASE[0], context_length="131072")
    fake_api.serve(catalog_doc([broken, {"id": 12}, *BASE[1:]]))
    out = sync(cli, fake_api, db=db_url)
    assert out.code == 0 and "3 free" in out.out and "2 entries skipped" in out.out and "-0 removed" in out.out
    assert "skipped entry #0 (google/gemma-3-27b-it:free)" in out.err
    assert rows(db_url, "select skipped from runs order by id desc limit 1") == [(2,)]


def test_api_key_is_sent_but_never_stored_or_printed(cli, fake_api, tmp_path, monkeypatch):
    canary = "sk-or-v1-CANARY-3f9a8b7c6d5e"
    monkeypatch.setenv("OPENROUTER_API_KEY", canary)
    fake_api.serve(catalog_doc(BASE))
    ok = sync(cli, fake_api, "-v")
    fake_api.serve(error_reply(401, "bad key"))
    bad = sync(cli, fake_api, "-v")
    assert bad.code == 1
    assert fake_api.requests[0]["headers"].get("Authorization") == f"Bearer {canary}"
    for text in (ok.out, ok.err, bad.out, bad.err):
        assert canary not in text
    for path in tmp_path.iterdir():
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path


def test_from_file_and_env_settings(cli, answer_file, tmp_path, monkeypatch):
    path = answer_file(catalog_doc(BASE))
    monkeypatch.setenv("CATALOG_DB", str(tmp_path / "env.db"))
    out = cli("sync", "--from-file", path, "--no-render")
    assert out.code == 0 and (tmp_path / "env.db").exists()
    source = rows(tmp_path / "env.db", "select source from runs")[0][0]
    assert source == f"file:{path}"
    missing = cli("sync", "--from-file", tmp_path / "nope.json", "--no-render")
    assert missing.code == 1 and "nope.json" in missing.err


def test_bad_usage_exits_2(cli):
    assert cli("sync", "--observed-at", "yesterday").code == 2
    assert cli("sync", "--api-url", "x", "--from-file", "y").code == 2
    assert cli("models", "--all", "--at", "2026-01-01").code == 2


def test_db_upgrade_and_sqlalchemy_url(cli, tmp_path):
    out = cli("db", "upgrade", "--db", f"sqlite:///{tmp_path / 'u.db'}")
    assert out.code == 0 and "upgraded from nothing" in out.out
    again = cli("db", "upgrade", "--db", str(tmp_path / "u.db"))
    assert again.code == 0 and "already at revision" in again.out
    assert rows(tmp_path / "u.db", "pragma journal_mode") == [("wal",)]


def test_newer_schema_is_refused(cli, fake_api, tmp_path):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api).code == 0
    with sqlite3.connect(tmp_path / "reg.db") as conn:
        conn.execute("update alembic_version set version_num = '9999_future'")
    for args in (("sync", "--db", "reg.db", "--api-url", fake_api.url, "--no-render"), ("models", "--db", "reg.db")):
        out = cli(*args)
        assert out.code == 1 and "newer than this catalog knows" in out.err


def test_readers_need_an_existing_registry(cli, tmp_path):
    out = cli("models", "--db", "missing.db")
    assert out.code == 1 and "run `catalog sync` first" in out.err
    assert not (tmp_path / "missing.db").exists()


def test_summary_counts_are_stored_per_run(cli, fake_api, tmp_path, db_url):
    body = json.dumps(catalog_doc(BASE)).encode()
    fake_api.serve(body)
    sync(cli, fake_api, db=db_url)
    run = rows(
        db_url,
        "select catalog_size, free_count, added, returned, removed, changed, skipped, payload_hash, status, source from runs",
    )[0]
    assert run == (4, 3, 3, 0, 0, 0, 0, hashlib.sha256(body).hexdigest(), "ok", fake_api.url)
