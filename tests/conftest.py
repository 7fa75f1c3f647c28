"""Shared fixtures: the real CLI driven in-process, saved answers, and the real captures."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakeapi import fake_api  # noqa: F401  (the fixture, for every test module)

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Five of the 54 hourly captures, byte for byte (see fixtures/README.md): enough history to replay
# the real events the tests check, and the newest one.
FIXTURE_CAPTURES = FIXTURES / "captures" / "xiechengqi-openrouter-free-api"
NEWEST = FIXTURE_CAPTURES / "2026-01-29T0404_ac17ccb.json"
WITH_ROUTERS = FIXTURES / "captures" / "chlnga-models-pie" / "2026-06-16T1838_9a8cc81.json"  # lists openrouter/free
ENDPOINTS = FIXTURES / "endpoints"  # real /endpoints bodies
# The full set, outside the repository: used where present, never needed.
SNAPSHOTS = REPO.parent / "shared" / "openrouter" / "snapshots"
XIE = SNAPSHOTS / "xiechengqi-openrouter-free-api"
# Every file a render writes by default, sorted: what the manual's table of generated files lists.
GENERATED_FILES = [
    "free-model-pool.json",
    "free-model-pool.ts",
    "free-models-count.svg",
    "free-models-timeline.svg",
    "free-models.atom",
    "free-models.json",
    "free-models.md",
    "free-models.schema.json",
]


def captures() -> list[Path]:
    """The real captures kept in tests/fixtures, oldest first."""
    return sorted(FIXTURE_CAPTURES.glob("*.json"))


def all_captures() -> list[Path]:
    """The 54 hourly captures where ../shared holds them, else the fixtures' five; oldest first."""
    full = sorted(XIE.glob("*.json")) if XIE.is_dir() else []
    return full if len(full) > len(captures()) else captures()


def capture_time(path: Path) -> str:
    """`2026-01-24T0323_84af1bd.json` -> `2026-01-24T03:23:00Z`."""
    stamp = path.name.split("_", 1)[0]
    return f"{stamp[:13]}:{stamp[13:15]}:00Z"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path_factory):
    for name in ("CATALOG_DB", "CATALOG_API_URL", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    # The render digests (catalog/render_skip.py) of one test are never another's.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    """Run `catalog ARGS...` in-process in tmp_path; returns exit code, stdout, stderr."""
    from catalog.cli import main

    monkeypatch.chdir(tmp_path)

    def run(*args) -> Result:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def answer_file(tmp_path):
    """Write a catalog document to a numbered JSON file and return its path."""
    counter = iter(range(1_000_000))

    def write(doc) -> Path:
        path = tmp_path / f"answer-{next(counter):03d}.json"
        path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
        return path

    return write


def rows(db: Path | str, sql: str, *params):
    """Rows of raw SQL (`?` placeholders) from a SQLite file or a PostgreSQL URL."""
    if str(db).startswith("postgresql"):
        import psycopg

        from catalog.registry.pgconnect import conninfo

        with psycopg.connect(conninfo(str(db))) as conn:
            return [tuple(row) for row in conn.execute(sql.replace("?", "%s"), params).fetchall()]
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


# ---------------------------------------------------------------- PostgreSQL (see pgserver.py)


@pytest.fixture(scope="session")
def pg_server():
    import shutil

    from pgserver import start_server

    server = start_server()
    yield server
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A new, empty database on the test server (superuser URL)."""
    return pg_server.url(pg_server.new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The registry, on each engine in turn: a file path, or a new PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "reg.db")
    return request.getfixturevalue("pg_url")


def reader_of(server, url: str) -> str:
    """Create a reader role with `catalog db reader-sql`'s SQL (run as the superuser, as an admin
    would); the URL that connects as it. Roles belong to the server: one name per database."""
    from catalog.registry.pgquery import reader_sql

    database = url.rsplit("/", 1)[1]
    role = f"reader_{database}"
    with server.admin(database) as admin:
        admin.execute(reader_sql(url, role))
    return server.url(database, user=role)
