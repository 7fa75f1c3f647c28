"""`catalog query` streams: rows reach the reader as the query produces them, a closed pipe ends it
quietly with status 0, --timeout stops an endless query with memory flat, and no single value can
grow past the documented limit. On both engines."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import reader_of
from fakeapi import catalog_doc, model

REPO = Path(__file__).resolve().parents[1]
ENDLESS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r"
MIB = 1024 * 1024
# Runs `catalog query ...` as its child and reports the child's exit status and peak RSS (in KiB,
# Linux's unit for ru_maxrss), then the child's stderr.
PEAK = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.stdout.write(done.stderr.decode())\n"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request, cli, tmp_path, answer_file):
    """The --db a reader uses: a synced SQLite file, or a reader role on a synced PostgreSQL database."""
    db = str(tmp_path / "reg.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    doc = answer_file(catalog_doc([model("a/one:free"), model("b/two:free")]))
    assert cli("sync", "--db", db, "--from-file", doc, "--no-render").code == 0
    return db if request.param == "sqlite" else reader_of(request.getfixturevalue("pg_server"), db)


def query_argv(db: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "catalog", "query", "--db", db, *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def peak(db: str, *args: str) -> tuple[int, int, str]:
    """(exit status, peak RSS in bytes, stderr) of `catalog query` with stdout to /dev/null."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *query_argv(db, *args)], capture_output=True, text=True, env=env(), timeout=120
    )
    head, _, err = done.stdout.partition("\n")
    code, rss_kib = map(int, head.split())
    return code, rss_kib * 1024, err


@pytest.mark.parametrize(
    ("fmt", "first_two"),
    [("csv", [b"n\r\n", b"1\r\n"]), ("json", [b"[\n", b'{"n": 1},\n']), ("table", [b"   n\n", b"----\n"])],
)
def test_an_endless_query_feeds_a_reader_that_stops_after_two_lines(registry, fmt, first_two):
    process = subprocess.Popen(
        query_argv(registry, "--format", fmt, "--timeout", "60", ENDLESS),
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watchdog = threading.Timer(120, process.kill)  # only if streaming were broken: fail, never hang
    watchdog.start()
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]
        process.stdout.close()  # like `| head -2`: the reader goes away, the query never ends by itself
        assert process.wait(timeout=60) == 0
        assert lines == first_two
        assert process.stderr.read() == b""
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


def test_an_endless_query_stops_at_its_timeout_with_memory_flat(registry):
    code, rss, err = peak(registry, "--format", "csv", "--timeout", "2", ENDLESS)
    assert code == 1
    assert err == "catalog: error: the query ran longer than 2 s and was stopped; narrow it or raise --timeout\n"
    assert rss < 300 * MIB, f"peak RSS {rss / MIB:.0f} MiB"
    # Flat: about what a one-row answer takes (collecting the rows instead reached 130 MiB in 2 s).
    _, baseline, _ = peak(registry, "--format", "csv", "SELECT 1")
    assert rss < baseline + 48 * MIB, f"peak RSS {rss / MIB:.0f} MiB, one row {baseline / MIB:.0f} MiB"


def test_a_huge_value_fails_at_once_in_one_line(tmp_path, cli, answer_file):
    db = str(tmp_path / "reg.db")
    assert (
        cli("sync", "--db", db, "--from-file", answer_file(catalog_doc([model("a/one:free")])), "--no-render").code == 0
    )
    for sql in (
        "SELECT printf('%.*c', 900000000, 'x')",
        "SELECT format('%.900000000c', 'x')",
        "SELECT zeroblob(900000000)",
        "SELECT group_concat(hex(randomblob(1000))) FROM (" + ENDLESS + " LIMIT 20000)",  # 40 MB whole
    ):
        # A generous --timeout: the value's own limit stops it, not the clock.
        code, rss, err = peak(db, "--timeout", "60", sql)
        assert code == 1, sql
        assert (
            err.startswith("catalog: error: the query failed: a value is longer than 16 MiB") and err.count("\n") == 1
        )
        assert rss < 300 * MIB, f"{sql}: peak RSS {rss / MIB:.0f} MiB"


def test_a_row_too_long_is_refused_by_the_postgresql_server(cli, pg_server, pg_url, answer_file):
    assert (
        cli("sync", "--db", pg_url, "--from-file", answer_file(catalog_doc([model("a/one:free")])), "--no-render").code
        == 0
    )
    registry = reader_of(pg_server, pg_url)
    code, rss, err = peak(registry, "--timeout", "60", "SELECT 1 AS n, repeat('x', 100000000) AS x")
    assert code == 1
    assert err.startswith("catalog: error: the query failed: a row is longer than 16 MiB") and err.count("\n") == 1
    assert rss < 300 * MIB, f"peak RSS {rss / MIB:.0f} MiB"
    fits = peak(registry, "--timeout", "60", "SELECT length(x) FROM (SELECT repeat('x', 100000000) AS x) t")
    assert fits[0] == 0, fits[2]  # only what is sent counts


def test_printf_within_the_limit_is_sqlites_own(cli, tmp_path, answer_file):
    db = str(tmp_path / "reg.db")
    assert (
        cli("sync", "--db", db, "--from-file", answer_file(catalog_doc([model("a/one:free")])), "--no-render").code == 0
    )
    out = cli(
        "query",
        "--db",
        db,
        "--format",
        "json",
        "SELECT printf('%.2f|%5d|%-3s|%%', 3.14159, 42, 'ok') AS p, format('%d', 9999999999) AS f,"
        " length(printf('%.*c', 1000000, 'x')) AS n, printf(NULL) AS z",
    )
    assert out.code == 0, out.err
    assert out.json() == [{"p": "3.14|   42|ok |%", "f": "9999999999", "n": 1000000, "z": None}]


def test_an_empty_answer_keeps_its_header(cli, registry):
    out = cli("query", "--db", registry, "--format", "csv", "SELECT id, vendor FROM models WHERE id = 'none'")
    assert out.code == 0, out.err
    assert out.out == "id,vendor\r\n"


def test_answers_longer_than_a_batch_arrive_whole_and_in_order(cli, registry):
    out = cli("query", "--db", registry, "--format", "json", ENDLESS.replace("FROM r)", "FROM r WHERE n < 1234)"))
    assert out.code == 0, out.err
    assert [row["n"] for row in out.json()] == list(range(1, 1235))


def test_statements_that_are_not_a_select_still_answer_on_postgresql(cli, pg_server, pg_url, answer_file):
    doc = answer_file(catalog_doc([model("a/one:free")]))
    assert cli("sync", "--db", pg_url, "--from-file", doc, "--no-render").code == 0
    reader = reader_of(pg_server, pg_url)
    shown = cli("query", "--db", reader, "--format", "json", "SHOW transaction_read_only")
    assert shown.code == 0 and shown.json() == [{"transaction_read_only": "on"}], shown.err
    plan = cli("query", "--db", reader, "--format", "csv", "EXPLAIN SELECT id FROM models")
    assert plan.code == 0 and plan.out.startswith("QUERY PLAN\r\n"), plan.err
    for sql in ("SELECT 1; DELETE FROM models", "SHOW server_version; DELETE FROM models"):
        refused = cli("query", "--db", reader, sql)
        assert refused.code == 1 and "multiple commands" in refused.err, (sql, refused.err)
    wrong = cli("query", "--db", reader, "SELEC 1")
    assert wrong.code == 1 and wrong.err.startswith('catalog: error: the query failed: syntax error at or near "SELEC"')


def test_a_long_table_prints_in_blocks_each_under_its_header(capsys):
    from catalog.display.rowstream import TABLE_BLOCK, print_batches
    from catalog.display.views import TableOptions

    rows = [(n,) for n in range(1, 2 * TABLE_BLOCK + 2)]
    print_batches(iter([rows[:700], rows[700:]]), ["n"], "table", TableOptions())
    lines = capsys.readouterr().out.splitlines()
    assert [i for i, line in enumerate(lines) if line.strip() == "n"] == [0, TABLE_BLOCK + 3, 2 * TABLE_BLOCK + 6]
    assert [int(line) for line in lines if line.strip().isdigit()] == list(range(1, 2 * TABLE_BLOCK + 2))
