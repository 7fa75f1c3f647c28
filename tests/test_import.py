"""`catalog import`: backfill from saved files and from every commit of a git-scraped file."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import capture_time, captures, rows
from fakeapi import catalog_doc, model

ANSWERS = [
    catalog_doc([model("a/one:free"), model("b/two:free"), model("c/paid", prompt="1", completion="1")]),
    catalog_doc([model("a/one:free", context_length=32768), model("b/two:free")]),
    catalog_doc([model("a/one:free", context_length=32768)]),
    catalog_doc([model("a/one:free", context_length=32768), model("b/two:free"), model("d/new:free")]),
]
STAMPS = ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"]

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args, date: str | None = None):
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env, timeout=60)


def scraped_repo(tmp_path: Path, bodies: list[bytes], stamps: list[str], name="models.json") -> Path:
    repo = tmp_path / "scraper"
    (repo / "data").mkdir(parents=True)
    git(repo, "init", "-q")
    for body, stamp in zip(bodies, stamps):
        (repo / "data" / name).write_bytes(body)
        (repo / "README").write_text(stamp)  # a commit may touch other files too
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"scrape {stamp}", date=stamp)
    return repo


@needs_git
def test_import_git_records_every_commit_oldest_first(cli, tmp_path):
    repo = scraped_repo(tmp_path, [json.dumps(a).encode() for a in ANSWERS], STAMPS)
    out = cli("import", "--db", "h.db", "--git", repo, "--path", "data/models.json", "--no-render")
    assert out.code == 0, out.err
    assert out.out.startswith("4 answers: 4 imported; +3 added, 1 returned, -1 removed, 2 changed")
    assert [r[0] for r in rows(tmp_path / "h.db", "select observed_at from runs order by id")] == STAMPS
    events = cli("changes", "--db", "h.db", "--format", "json").json()
    assert [(e["observed_at"], e["model_id"], e["kind"]) for e in events if e["kind"] != "changed"] == [
        ("2026-01-04T00:00:00Z", "d/new:free", "added"),
        ("2026-01-04T00:00:00Z", "b/two:free", "returned"),
        ("2026-01-03T00:00:00Z", "b/two:free", "removed"),
        ("2026-01-01T00:00:00Z", "b/two:free", "added"),
        ("2026-01-01T00:00:00Z", "a/one:free", "added"),
    ]
    again = cli("import", "--db", "h.db", "--git", repo, "--path", "./data/models.json", "--no-render")
    assert again.code == 0 and "0 imported, 4 already imported" in again.out
    assert rows(tmp_path / "h.db", "select count(*) from runs") == [(4,)]


@needs_git
def test_import_git_continues_past_a_bad_commit(cli, tmp_path):
    bodies = [json.dumps(ANSWERS[0]).encode(), b"<html>rate limited</html>", json.dumps(ANSWERS[1]).encode()]
    repo = scraped_repo(tmp_path, bodies, STAMPS[:3])
    out = cli("import", "--db", "h.db", "--git", repo, "--path", "data/models.json", "--no-render")
    assert out.code == 1 and "2 imported, 1 failed" in out.out
    assert "not JSON (it looks like an HTML page)" in out.err
    assert rows(tmp_path / "h.db", "select status from runs order by id") == [("ok",), ("failed",), ("ok",)]


@needs_git
def test_import_git_bad_arguments(cli, tmp_path):
    repo = scraped_repo(tmp_path, [json.dumps(ANSWERS[0]).encode()], STAMPS[:1])
    assert cli("import", "--db", "h.db").code == 2
    assert cli("import", "--db", "h.db", "--git", repo).code == 2
    missing = cli("import", "--db", "h.db", "--git", repo, "--path", "nope.json")
    assert missing.code == 2 and "no commit" in missing.err
    notrepo = cli("import", "--db", "h.db", "--git", tmp_path / "nowhere", "--path", "x.json")
    assert notrepo.code == 2 and "git failed" in notrepo.err


def test_import_files_by_modification_time(cli, tmp_path, answer_file):
    paths = [answer_file(a) for a in ANSWERS]
    for path, stamp in zip(reversed(paths), range(4)):  # newest file first on disk order
        os.utime(path, (1767225600 + stamp * 86400,) * 2)
    out = cli("import", "--db", "f.db", "--no-render", "--allow-mass-removal", *paths)
    assert out.code == 0, out.err
    sources = [r[0] for r in rows(tmp_path / "f.db", "select source from runs order by id")]
    assert sources == [f"file:{p}" for p in reversed(paths)]
    # older than the registry's newest run: skipped, not reordered into history
    late = answer_file(ANSWERS[0])
    os.utime(late, (1767225600 - 86400,) * 2)
    out = cli("import", "--db", "f.db", "--no-render", late)
    assert "1 older than the registry (skipped)" in out.out


@needs_git
def test_import_git_of_the_real_captures_equals_syncing_them(cli, tmp_path):
    paths = captures()
    repo = scraped_repo(tmp_path, [p.read_bytes() for p in paths], [capture_time(p) for p in paths], name="free.json")
    out = cli("import", "--db", "git.db", "--git", repo, "--path", "data/free.json", "--no-render")
    assert out.code == 0, out.err
    for path in paths:
        synced = cli("sync", "--db", "sync.db", "--from-file", path, "--observed-at", capture_time(path), "--no-render")
        assert synced.code == 0, synced.err
    query = "select observed_at, model_id, kind, reason, field, old, new from events order by id"
    assert rows(tmp_path / "git.db", query) == rows(tmp_path / "sync.db", query)
