"""Read-only access: every way to write is refused and leaves the files byte-identical; reads
work beside a writer and in a folder the reader cannot write; runaway queries are stopped."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from catalog.commands import cli_query
from catalog.errors import QueryError, RegistryError
from catalog.registry import readonly

REPO = Path(__file__).resolve().parents[1]
RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def build_registry(path: Path) -> None:
    """A small WAL database of our own: the test does not depend on the real schema."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE models (id TEXT PRIMARY KEY, context_length INTEGER, note TEXT)")
    conn.execute("CREATE INDEX ix_models_context_length ON models (context_length)")
    conn.executemany(
        "INSERT INTO models VALUES (?, ?, ?)",
        [("qwen/qwen3:free", 131072, '通义, "quoted"'), ("z-ai/glm:free", 32768, None), ("a/b:free", 131072, "x\ny")],
    )
    conn.commit()
    conn.close()


@pytest.fixture
def registry(tmp_path):
    """A WAL registry whose writer stays open with changes still in the -wal file, as mid-sync."""
    path = tmp_path / "catalog.db"
    build_registry(path)
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA wal_autocheckpoint=0")  # keep the frames in -wal: both files matter
    writer.execute("INSERT INTO models VALUES ('late/model:free', 8192, 'in the WAL')")
    writer.commit()
    yield path
    writer.close()


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file in the folder and the hash of the database and its WAL."""
    prints = {}
    for file in sorted(folder.iterdir()):
        prints[file.name] = "" if file.name.endswith("-shm") else hashlib.sha256(file.read_bytes()).hexdigest()
    return prints


WRITES = [
    "DELETE FROM models",
    "UPDATE models SET note = 'changed'",
    "INSERT INTO models VALUES ('evil', 1, 'x')",
    "REPLACE INTO models VALUES ('qwen/qwen3:free', 1, 'x')",
    "WITH doomed AS (SELECT id FROM models) DELETE FROM models WHERE id IN doomed",
    "DROP TABLE models",
    "DROP INDEX ix_models_context_length",
    "CREATE TABLE other (a)",
    "CREATE TEMP TABLE scratch (a)",
    "CREATE INDEX ix_note ON models (note)",
    "CREATE VIEW v AS SELECT 1",
    "CREATE TRIGGER t AFTER INSERT ON models BEGIN SELECT 1; END",
    "ALTER TABLE models ADD COLUMN extra TEXT",
    "ATTACH '{folder}/attached.db' AS other",
    "VACUUM INTO '{folder}/copy.db'",
    "VACUUM",
    "REINDEX",
    "ANALYZE",
    "PRAGMA writable_schema=1",
    "PRAGMA journal_mode=delete",
    "PRAGMA user_version=5",
    "PRAGMA query_only=0",
    "PRAGMA wal_checkpoint(TRUNCATE)",
    "PRAGMA optimize",
    "PRAGMA incremental_vacuum",
    "SELECT load_extension('/nonexistent/ext')",
    "SELECT fts3_tokenizer('simple')",
]


@pytest.mark.parametrize("statement", WRITES)
def test_every_write_is_refused_and_changes_nothing(registry, statement):
    folder = registry.parent
    before = fingerprint(folder)
    conn = readonly.connect(str(registry), timeout=5)
    try:
        with pytest.raises(QueryError) as caught:
            _collect(readonly.stream(conn, statement.format(folder=folder), {}))
        # Still a working reader afterwards, still seeing the writer's committed rows.
        assert conn.execute("SELECT count(*) FROM models").fetchone() == (4,)
    finally:
        conn.close()
    message = str(caught.value)
    assert message.startswith("refused: the registry is opened read-only (")
    assert "\n" not in message
    assert fingerprint(folder) == before  # same files (nothing attached or vacuumed into), same bytes


def test_refusal_names_what_was_refused(registry):
    conn = readonly.connect(str(registry))
    try:
        with pytest.raises(QueryError, match=r"DELETE on models"):
            _collect(readonly.stream(conn, "DELETE FROM models", {}))
        with pytest.raises(QueryError, match=r"PRAGMA user_version=5"):
            _collect(readonly.stream(conn, "PRAGMA user_version=5", {}))
    finally:
        conn.close()


READS = [
    ("SELECT id FROM models WHERE context_length = 131072 ORDER BY id", [("a/b:free",), ("qwen/qwen3:free",)]),
    ("SELECT count(*) FROM models", [(4,)]),
    ("SELECT name FROM pragma_table_info('models') ORDER BY cid", [("id",), ("context_length",), ("note",)]),
    ("PRAGMA user_version", [(0,)]),
    ("PRAGMA journal_mode", [("wal",)]),
    ("SELECT value FROM json_each('[1, 2]')", [(1,), (2,)]),
    ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3) SELECT x FROM c", [(1,), (2,), (3,)]),
]


@pytest.mark.parametrize(("statement", "expected"), READS)
def test_reads_report_and_introspection_still_work(registry, statement, expected):
    conn = readonly.connect(str(registry))
    try:
        assert _collect(readonly.stream(conn, statement, {}))[1] == expected
    finally:
        conn.close()


def test_table_info_pragma_works(registry):
    conn = readonly.connect(str(registry))
    try:
        columns, rows = _collect(readonly.stream(conn, "PRAGMA table_info(models)", {}))
    finally:
        conn.close()
    assert "name" in columns and [row[1] for row in rows] == ["id", "context_length", "note"]


def test_named_parameters_bind_numbers_as_numbers(registry):
    conn = readonly.connect(str(registry))
    try:
        params = dict(cli_query.parse_param(text) for text in ["n=131072", "note=x\ny"])
        _, rows = _collect(
            readonly.stream(conn, "SELECT id FROM models WHERE context_length = :n AND note = :note", params)
        )
        assert rows == [("a/b:free",)]
        quoted = dict([cli_query.parse_param('n="131072"')])
        assert _collect(readonly.stream(conn, "SELECT typeof(:n)", quoted))[1] == [("text",)]
        with pytest.raises(QueryError, match=r"--param"):
            _collect(readonly.stream(conn, "SELECT :missing", {}))
    finally:
        conn.close()


def test_a_runaway_query_is_stopped_by_the_timeout(registry):
    conn = readonly.connect(str(registry), timeout=0.5)
    # Only if the time limit were broken: end the test with a failure instead of a hang.
    watchdog = threading.Timer(120, conn.interrupt)
    watchdog.start()
    try:
        with pytest.raises(QueryError, match=r"ran longer than 0\.5 s and was stopped"):
            _collect(readonly.stream(conn, RUNAWAY, {}))
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection survives
    finally:
        watchdog.cancel()
        conn.close()


def test_the_time_limit_applies_to_each_statement_not_the_connection(registry, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(readonly, "_clock", lambda: now[0])
    conn = readonly.connect(str(registry), timeout=0.5)
    try:
        assert _collect(readonly.stream(conn, "SELECT count(*) FROM models", {}))[1] == [(4,)]
        now[0] += 3600  # an hour later the next statement gets a fresh half second
        assert _collect(readonly.stream(conn, "SELECT count(*) FROM models", {}))[1] == [(4,)]
    finally:
        conn.close()


def test_reading_works_while_a_writer_holds_an_open_transaction(registry):
    writer = sqlite3.connect(registry, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM models")
    try:
        conn = readonly.connect(str(registry), timeout=5)
        try:
            # The reader sees the last committed state, without waiting for the writer.
            assert conn.execute("SELECT count(*) FROM models").fetchone() == (4,)
        finally:
            conn.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_missing_registry_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "nothing.db"
    with pytest.raises(RegistryError, match=r"no registry at .*nothing\.db; run `catalog sync` first"):
        readonly.connect(str(missing))
    with pytest.raises(RegistryError):
        readonly.connect(f"sqlite:///{missing}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("db", "expected"),
    [
        ("catalog.db", Path("catalog.db")),
        ("/x/y.db", Path("/x/y.db")),
        ("sqlite:///rel.db", Path("rel.db")),
        ("sqlite:////abs/x.db", Path("/abs/x.db")),
        ("sqlite+pysqlite:///rel.db?timeout=5", Path("rel.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql://user@host/catalog", None),
    ],
)
def test_sqlite_path_understands_paths_and_urls(db, expected):
    assert readonly.sqlite_path(db) == expected


def test_sqlalchemy_engine_reads_and_refuses_writes(registry):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = readonly.sqlalchemy_engine(str(registry), timeout=5)
    before = fingerprint(registry.parent)
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("SELECT count(*) FROM models")).scalar() == 4
        assert "models" in sqlalchemy.inspect(conn).get_table_names()
        with pytest.raises(sqlalchemy.exc.DBAPIError) as caught:
            conn.execute(sqlalchemy.text("DELETE FROM models"))
        error = readonly.query_error(caught.value, conn.connection.dbapi_connection)
        assert str(error).startswith("refused: the registry is opened read-only (DELETE on models")
    engine.dispose()
    assert fingerprint(registry.parent) == before


# --- a folder the reader cannot write ---------------------------------------------------------


def build_unwritable_wal_registry(folder: Path) -> Path:
    """A WAL database with no -wal/-shm beside it, in a folder and file nobody can write."""
    folder.mkdir()
    path = folder / "catalog.db"
    build_registry(path)  # closing the last connection removes -wal and -shm
    assert sorted(p.name for p in folder.iterdir()) == ["catalog.db"]
    path.chmod(0o444)
    folder.chmod(0o555)
    return path


def test_wal_registry_in_an_unwritable_folder_simulated(tmp_path, monkeypatch):
    """Root can write anywhere, so here the folder only claims to be unwritable and the first
    open fails the way SQLite fails for an unprivileged user; the real case runs below."""
    path = build_unwritable_wal_registry(tmp_path / "ro")
    real_open = readonly._open_uri
    attempts = []

    def open_uri(path, *, immutable):
        attempts.append(immutable)
        if not immutable:
            error = sqlite3.OperationalError("attempt to write a readonly database")
            error.sqlite_errorname = "SQLITE_READONLY_DIRECTORY"
            raise error
        return real_open(path, immutable=immutable)

    monkeypatch.setattr(readonly, "_open_uri", open_uri)
    monkeypatch.setattr(readonly, "_dir_writable", lambda folder: False)
    try:
        conn = readonly.connect(str(path))
        try:
            assert conn.execute("SELECT count(*) FROM models").fetchone() == (3,)
            with pytest.raises(sqlite3.DatabaseError):
                conn.execute("DELETE FROM models")
        finally:
            conn.close()
        assert attempts == [False, True]
        assert sorted(p.name for p in path.parent.iterdir()) == ["catalog.db"]
    finally:
        path.parent.chmod(0o755)


def unprivileged_command() -> list[str] | None:
    """How to run a program as an unprivileged user here, or None."""
    if os.geteuid() != 0:
        return []  # already unprivileged: permissions apply to us
    setpriv = shutil.which("setpriv")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if setpriv else None


def test_wal_registry_in_an_unwritable_folder_as_an_unprivileged_user():
    prefix = unprivileged_command()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot drop privileges to test permissions")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import catalog.registry.readonly"],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
    )
    if probe.returncode != 0:
        pytest.skip(
            f"the unprivileged user cannot run {sys.executable} or import catalog: {probe.stderr.strip()[-200:]}"
        )
    # tmp_path's parents are private to root; this folder must be reachable by the other user.
    outer = Path(tempfile.mkdtemp(prefix="catalog-ro-"))
    try:
        outer.chmod(0o755)
        path = build_unwritable_wal_registry(outer / "ro")
        before = fingerprint(path.parent)
        code = (
            "import json, sys\n"
            "from catalog.registry import readonly\n"
            "conn = readonly.connect(sys.argv[1], timeout=5)\n"
            "print(json.dumps(conn.execute('SELECT id FROM models ORDER BY id').fetchall()))\n"
        )
        result = subprocess.run(
            [*prefix, sys.executable, "-c", code, str(path)],
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == [["a/b:free"], ["qwen/qwen3:free"], ["z-ai/glm:free"]]
        assert fingerprint(path.parent) == before  # no -shm, no -wal, same bytes
        # Without the fallback SQLite refuses outright: proof that this setup is the hard case.
        plain = subprocess.run(
            [
                *prefix,
                sys.executable,
                "-c",
                "import sqlite3, sys\n"
                "sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True).execute('SELECT 1 FROM models').fetchall()",
                str(path),
            ],
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert plain.returncode != 0
    finally:
        for folder, _dirs, _files in os.walk(outer):
            os.chmod(folder, 0o755)
        shutil.rmtree(outer)


# --- through the real command line ------------------------------------------------------------


def catalog(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CATALOG_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "catalog", "query", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        **{"timeout": 120, **kwargs},
    )


def test_cli_json_output_parses(registry):
    result = catalog("--db", str(registry), "--format", "json", "SELECT id, note FROM models ORDER BY id", text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"id": "a/b:free", "note": "x\ny"},
        {"id": "late/model:free", "note": "in the WAL"},
        {"id": "qwen/qwen3:free", "note": '通义, "quoted"'},
        {"id": "z-ai/glm:free", "note": None},
    ]


def test_cli_csv_output_parses(registry):
    result = catalog(
        "--db",
        f"sqlite:///{registry}",
        "--format",
        "csv",
        "--param",
        "n=131072",
        "SELECT id, context_length, note FROM models WHERE context_length = :n ORDER BY id",
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("utf-8")
    assert text.endswith("\r\n")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["id", "context_length", "note"],
        ["a/b:free", "131072", "x\ny"],
        ["qwen/qwen3:free", "131072", '通义, "quoted"'],
    ]


def test_cli_refuses_a_write_with_one_line(registry):
    before = fingerprint(registry.parent)
    result = catalog("--db", str(registry), "DROP TABLE models", text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("catalog: error: refused: the registry is opened read-only")
    assert result.stderr.count("\n") == 1
    assert fingerprint(registry.parent) == before


def test_cli_stops_a_runaway_query(registry):
    result = catalog("--db", str(registry), "--timeout", "0.5", RUNAWAY, text=True, timeout=120)
    assert result.returncode == 1
    assert "ran longer than 0.5 s and was stopped" in result.stderr


def test_cli_output_into_a_closed_pipe_exits_quietly(registry):
    """`catalog query ... | head -1`: the reader goes away early; no traceback, status 0."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    many = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 200000) SELECT x FROM c"
    process = subprocess.Popen(
        [sys.executable, "-m", "catalog", "query", "--db", str(registry), "--format", "csv", many],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline() == b"x\r\n"
    process.stdout.close()  # far more than a pipe buffer is still to come
    try:
        code = process.wait(timeout=60)  # stderr is read after: a clean exit writes nothing there
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    stderr = process.stderr.read()
    process.stderr.close()
    assert code == 0
    assert stderr == b""


def _collect(answer):
    """Every row of a streamed answer (the batches are read lazily, so a refusal may come late)."""
    columns, batches = answer
    return columns, [row for batch in batches for row in batch]
