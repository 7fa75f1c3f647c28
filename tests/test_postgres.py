"""The shared deployment on a real PostgreSQL server (started by the tests, see pgserver.py):
one sync at a time across hosts, the open-version guard, read-only queries as a reader role,
clocks that disagree, and values that store alike on both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import rows
from fakeapi import catalog_doc, hang, model

from catalog.errors import EXIT_LOCKED
from catalog.times import format_time

DOC = catalog_doc([model("a/one:free"), model("b/two:free", context_length=32768), model("c/paid", prompt="1")])


def catalog(*args, env=None, timeout=60):
    """`catalog ARGS` in its own process, as a timer on another host would run it."""
    return subprocess.run(
        [sys.executable, "-m", "catalog", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def host_env(tmp_path, name: str) -> dict:
    """Another host: its own lock folder (a file lock could never see the other host's)."""
    folder = tmp_path / name
    folder.mkdir()
    return {**os.environ, "CATALOG_LOCK_DIR": str(folder)}


# pg_locks rows of the sync lock held (catalog.registry.pglock)
HOLDING = "WHERE relation = 'sync_lock'::regclass AND mode = 'ExclusiveLock' AND granted"


def scalar(server, url: str, sql: str):
    with server.admin(url.rsplit("/", 1)[1]) as conn:
        return conn.execute(sql).fetchone()[0]


# ---------------------------------------------------------------- one sync at a time across hosts


def test_two_hosts_at_once_one_runs_the_other_exits_75_naming_it(pg_server, pg_url, fake_api, tmp_path):
    fake_api.queue(hang())  # the winner's fetch never ends, so it holds the lock until killed
    fake_api.serve(DOC)
    argv = ("sync", "--db", pg_url, "--api-url", fake_api.url, "--no-render", "--timeout", "120")
    started = time.monotonic()
    hosts = [
        subprocess.Popen(
            [sys.executable, "-m", "catalog", *argv],
            env=host_env(tmp_path, name),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for name in ("host-a", "host-b")
    ]
    try:
        loser = None
        while loser is None and time.monotonic() - started < 30:
            loser = next((p for p in hosts if p.poll() is not None), None)
            time.sleep(0.02)
        # At once, not after the winner: it is still inside its (endless) fetch. The time this
        # takes is measured by tests/benchmarks/run.py, not asserted here.
        assert loser is not None and loser.returncode == EXIT_LOCKED, loser and loser.stderr.read()
        winner = next(p for p in hosts if p is not loser)
        err = loser.stderr.read()
        assert err.count("\n") == 1
        assert f"another sync is running (catalog sync {os.uname().nodename[:20]}" in err
        assert f":{winner.pid} since " in err and "pass --wait SECONDS" in err
        assert winner.poll() is None and fake_api.wait_for_requests(1)

        winner.send_signal(signal.SIGKILL)
        winner.wait(timeout=10)
        # The server notices the closed socket and frees the lock: the next sync runs.
        deadline = time.monotonic() + 10
        while True:
            after = catalog(*argv, env=host_env(tmp_path, f"host-c{time.monotonic_ns()}"))
            if after.returncode != EXIT_LOCKED or time.monotonic() > deadline:
                break
        assert after.returncode == 0, after.stderr
    finally:
        for proc in hosts:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    assert scalar(pg_server, pg_url, "SELECT count(*) FROM free_models_now") == 2
    assert scalar(pg_server, pg_url, "SELECT count(*) - count(DISTINCT id) FROM free_models_now") == 0


def test_wait_and_db_upgrade_share_the_lock(pg_url, tmp_path):
    from catalog.registry.db import writer

    with writer(pg_url, purpose="import"):
        waited = catalog("sync", "--db", pg_url, "--from-file", tmp_path, "--wait", "0.5", "--no-render")
        assert waited.returncode == EXIT_LOCKED
        assert "still running after 0.5 s (catalog import " in waited.stderr
        upgrade = catalog("db", "upgrade", "--db", pg_url)
        assert upgrade.returncode == EXIT_LOCKED and "(catalog import " in upgrade.stderr
    assert catalog("db", "upgrade", "--db", pg_url).returncode == 0


def test_a_write_transaction_needs_the_lock_still_held(pg_server, pg_url):
    from sqlalchemy import text

    from catalog.errors import RegistryError
    from catalog.registry.db import writer

    with writer(pg_url) as engine:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))  # fenced, and the lock is held: it runs
        # The lock's own connection ends (as when an admin or a network cut kills it): the lock is lost.
        assert scalar(pg_server, pg_url, f"SELECT count(pg_terminate_backend(pid)) FROM pg_locks {HOLDING}") == 1
        deadline = time.monotonic() + 30  # the backend ends a moment after it is told to
        while scalar(pg_server, pg_url, f"SELECT count(*) FROM pg_locks {HOLDING}") and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(RegistryError, match="no longer holds the lock"), engine.begin() as conn:
            conn.execute(text("SELECT 1"))


def test_the_open_version_guard_refuses_a_second_open_version(cli, db_url, answer_file):
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from catalog.registry.db import writer
    from catalog.registry.store import versions

    assert cli("sync", "--db", db_url, "--from-file", answer_file(DOC), "--no-render").code == 0
    with writer(db_url) as engine, pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(versions).values(model_id="a/one:free", valid_from_run=1, valid_from=datetime.now(UTC)))


# ---------------------------------------------------------------- read-only queries


WRITES = [
    "DELETE FROM models",
    "UPDATE models SET vendor = 'x'",
    "INSERT INTO runs (started_at, observed_at, source, status, added, returned, removed, changed, skipped) "
    "VALUES ('x', 'x', 'x', 'ok', 0, 0, 0, 0, 0)",
    "WITH gone AS (DELETE FROM events RETURNING 1) SELECT count(*) FROM gone",
    "CREATE TABLE evil (x int)",
    "CREATE TEMP TABLE evil (x int)",
    "DROP VIEW free_models_now",
    "COMMIT; DELETE FROM models",
    "LOCK TABLE models IN ACCESS EXCLUSIVE MODE",
    "SELECT * FROM models FOR UPDATE",
    "COPY models TO PROGRAM 'touch {marker}'",
    "SELECT lo_export(lo_from_bytea(0, 'x'), '{marker}')",
    "SELECT pg_terminate_backend({victim})",
    "SELECT nextval('runs_id_seq')",
    "SET ROLE postgres",
    "DO $$ BEGIN DELETE FROM models; END $$",
    "TRUNCATE events",
]


def test_query_runs_only_as_a_reader_role(cli, pg_server, pg_url, answer_file, tmp_path):
    assert cli("sync", "--db", pg_url, "--from-file", answer_file(DOC), "--no-render").code == 0
    superuser = cli("query", "--db", pg_url, "SELECT 1")
    assert superuser.code == 1 and superuser.err.count("\n") == 1
    assert "role postgres is a superuser" in superuser.err and "catalog db reader-sql ROLE" in superuser.err

    database = pg_url.rsplit("/", 1)[1]
    role, writer_role = f"reader_{database}", f"writer_{database}"  # roles are server-wide
    sql = cli("db", "reader-sql", role, "--db", pg_url)
    assert sql.code == 0
    assert not [line for line in sql.out.splitlines() if "PASSWORD" in line.upper() and not line.startswith("--")]
    with pg_server.admin(database) as admin:
        admin.execute(sql.out)
        admin.execute(f"CREATE ROLE {writer_role} LOGIN")
        admin.execute(f"GRANT SELECT, INSERT ON runs TO {writer_role}")
        victim = admin.execute("SELECT pg_backend_pid()").fetchone()[0]
        reader = pg_server.url(database, user=role)
        answer = cli(
            "query",
            "--db",
            reader,
            "--format",
            "json",
            "SELECT id, context_length FROM free_models_now WHERE context_length >= :n ORDER BY id",
            "--param",
            "n=100000",
        )
        assert answer.code == 0, answer.err
        assert answer.json() == [{"id": "a/one:free", "context_length": 131072}]
        assert cli("query", "--db", reader, "--format", "json", "SELECT 'a%' AS p").json() == [{"p": "a%"}]

        before = admin.execute(
            "SELECT (SELECT count(*) FROM models), (SELECT count(*) FROM events), (SELECT count(*) FROM runs)"
        ).fetchone()
        marker = tmp_path / "marker"
        for statement in WRITES:
            out = cli("query", "--db", reader, statement.format(marker=marker, victim=victim))
            assert out.code == 1 and out.err.count("\n") == 1, (statement, out.err)
            assert out.err.startswith("catalog: error: "), statement
        assert admin.execute("SELECT 1").fetchone() == (1,)  # not terminated
        after = admin.execute(
            "SELECT (SELECT count(*) FROM models), (SELECT count(*) FROM events), (SELECT count(*) FROM runs)"
        ).fetchone()
        assert after == before and not marker.exists()
        assert admin.execute("SELECT to_regclass('evil')").fetchone() == (None,)

    writer = cli("query", "--db", pg_server.url(database, user=writer_role), "SELECT 1")
    assert writer.code == 1 and f"role {writer_role} has INSERT on runs" in writer.err and "db reader-sql" in writer.err
    slow = cli("query", "--db", reader, "--timeout", "0.2", "SELECT pg_sleep(5)")
    assert slow.code == 1 and "ran longer than 0.2 s" in slow.err
    for command in (
        ("models",),
        ("changes",),
        ("history", "a/one:free"),
        ("status",),
        ("pools",),
        ("render", "--out", tmp_path / "out"),
    ):
        assert cli(*command, "--db", reader).code == 0, command


def test_reader_sql_is_for_postgresql_and_quotes_names(cli, tmp_path):
    sqlite = cli("db", "reader-sql", "r", "--db", tmp_path / "x.db")
    assert sqlite.code == 2 and "PostgreSQL" in sqlite.err
    out = cli("db", "reader-sql", 'we"ird', "--db", "postgresql+psycopg://owner:secret@db.example/reg")
    assert out.code == 0 and 'CREATE ROLE "we""ird" LOGIN' in out.out and "secret" not in out.out
    assert 'FOR ROLE "owner" IN SCHEMA "public"' in out.out and "REVOKE TEMPORARY" in out.out


def test_a_dry_run_on_an_empty_database_writes_nothing(cli, pg_server, pg_url, answer_file):
    out = cli("sync", "--db", pg_url, "--from-file", answer_file(DOC), "--dry-run")
    assert out.code == 0 and "+ added    a/one:free" in out.out and "dry run" in out.out, out.err
    assert scalar(pg_server, pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0


def test_import_backfills_postgresql_and_skips_what_it_has(cli, pg_url, answer_file):
    first, second = answer_file(DOC), answer_file(catalog_doc([model("a/one:free")]))
    os.utime(first, (1767225600, 1767225600))
    os.utime(second, (1767312000, 1767312000))
    out = cli("import", "--db", pg_url, first, second, "--no-render", "--allow-mass-removal")
    assert out.code == 0 and out.out.startswith("2 answers: 2 imported; +2 added"), out.err
    again = cli("import", "--db", pg_url, first, second, "--no-render")
    assert again.code == 0 and "2 already imported" in again.out
    assert [e["observed_at"] for e in cli("changes", "--db", pg_url, "--format", "json").json()] == [
        "2026-01-02T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
    ]


# ---------------------------------------------------------------- clocks


def test_a_live_sync_behind_the_registry_is_recorded_at_its_time(cli, db_url, answer_file):
    future = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    first = cli(
        "sync", "--db", db_url, "--from-file", answer_file(DOC), "--observed-at", format_time(future), "--no-render"
    )
    assert first.code == 0, first.err
    live = cli(
        "sync",
        "--db",
        db_url,
        "--from-file",
        answer_file(catalog_doc([model("a/one:free")])),
        "--allow-mass-removal",
        "--no-render",
    )
    assert live.code == 0, live.err
    assert live.err.count("\n") == 1 and "behind the newest run in the registry" in live.err
    status = cli("status", "--db", db_url, "--format", "json").json()
    assert status["last_ok"]["id"] == 2 and status["last_ok"]["observed_at"] == format_time(future)
    assert 3500 <= status["clock_skew_seconds"] <= 3600
    assert "clock skew" in cli("status", "--db", db_url).out
    removed = cli("changes", "--db", db_url, "--kind", "removed", "--format", "json").json()
    assert [(e["model_id"], e["observed_at"]) for e in removed] == [("b/two:free", format_time(future))]
    earlier = cli(
        "sync",
        "--db",
        db_url,
        "--from-file",
        answer_file(DOC),
        "--no-render",
        "--observed-at",
        format_time(future - timedelta(seconds=1)),
    )
    assert earlier.code == 2 and "earlier than the newest successful run" in earlier.err


def test_from_file_is_observed_when_synced_not_at_its_mtime(cli, db_url, answer_file):
    path = answer_file(DOC)
    os.utime(path, (0, 0))
    before = format_time(datetime.now(UTC))
    assert cli("sync", "--db", db_url, "--from-file", path, "--no-render").code == 0
    status = cli("status", "--db", db_url, "--format", "json").json()
    assert status["last_ok"]["observed_at"] >= before and status["clock_skew_seconds"] == 0


# ---------------------------------------------------------------- values that store alike


def test_wide_integers_nul_and_long_text_store_alike(cli, db_url, answer_file):
    wide = model(
        "w/wide:free",
        context_length=2**40,
        created=2**33,
        name="nul\x00name",
        description="x" * 200_000,
        top_provider={"max_completion_tokens": 2**35},
        supported_parameters=["to\x00ols"],
    )
    assert cli("sync", "--db", db_url, "--from-file", answer_file(catalog_doc([wide])), "--no-render").code == 0
    row = cli("models", "--db", db_url, "--format", "json").json()[0]
    assert (row["context_length"], row["max_completion_tokens"], row["name"]) == (2**40, 2**35, "nulname")
    # Read with plain SQL on each engine (`catalog query` on PostgreSQL needs a reader role).
    assert rows(
        db_url, "SELECT created, length(description), context_length, max_completion_tokens, name FROM model_versions"
    ) == [(2**33, 200_000, 2**40, 2**35, "nulname")]
    history = cli("history", "--db", db_url, "w/wide:free", "--format", "json").json()
    assert [e["kind"] for e in history] == ["added"]
    assert json.loads(cli("models", "--db", db_url, "--all", "--format", "json").out)[0]["is_free"] is True


# ---------------------------------------------------------------- the schema on both engines


def test_migrations_match_the_tables_and_0003_goes_both_ways(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from alembic import command
    from catalog.registry.db import writer
    from catalog.registry.migrate import alembic_config
    from catalog.registry.schema import Base

    with writer(db_url) as engine:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0002")
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_wait_takes_the_lock_once_it_is_freed(pg_server, pg_url):
    """--wait blocks on the server (lock_timeout) and gets the lock as soon as the holder lets go."""
    import threading

    from sqlalchemy import text

    from catalog.registry.db import writer

    holder = writer(pg_url, purpose="import")
    holder.__enter__()

    seen_waiting = threading.Event()
    stop = threading.Event()

    def release_once_waited_for():
        deadline = time.monotonic() + 30
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                if scalar(
                    pg_server,
                    pg_url,
                    "SELECT count(*) FROM pg_locks WHERE relation = 'sync_lock'::regclass AND NOT granted",
                ):
                    seen_waiting.set()
                    break
                time.sleep(0.01)
        finally:
            holder.__exit__(None, None, None)  # let go in any case: the test never waits forever

    releaser = threading.Thread(target=release_once_waited_for, daemon=True)
    releaser.start()
    try:
        with writer(pg_url, wait=60) as engine, engine.connect() as conn:
            assert conn.execute(text("SELECT current_setting('lock_timeout')")).scalar() == "0"
    finally:
        stop.set()
        releaser.join(timeout=30)
    assert not releaser.is_alive(), "the releaser thread did not finish"
    assert seen_waiting.is_set()  # the lock was taken after a real wait on the server, not before


def test_snapshots_list_models_by_code_point_whatever_the_collation(cli, db_url, answer_file):
    from catalog.registry.db import read_connection
    from catalog.registry.reads import load_snapshot

    ids = ["a/x:free", "a/x-1:free", "a/X:free", "a/x1:free", "a/\u00e9:free", "a/z:free", "a/x_2:free"]
    assert (
        cli(
            "sync", "--db", db_url, "--from-file", answer_file(catalog_doc([model(i) for i in ids])), "--no-render"
        ).code
        == 0
    )
    with read_connection(db_url) as conn:
        assert [m.record.id for m in load_snapshot(conn).models] == sorted(ids)
