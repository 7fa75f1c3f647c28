"""Every fault the issue lists, through the real CLI: a good sync first, then the faulty one must
exit 1 (75 for a held lock) with one error line, no traceback, the registry's data unchanged apart
from one failed-run row, and the generated files untouched (same bytes, same mtimes)."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import GENERATED_FILES, rows
from fakeapi import (
    catalog_doc,
    error_reply,
    hang,
    huge_body,
    model,
    redirect,
    reply,
    reset_mid_body,
    short_body,
)

from catalog.errors import EXIT_LOCKED
from catalog.ingest import fetch as fetch_mod

BASE = [
    model("google/gemma-3-27b-it:free", context_length=131072),
    model("meta-llama/llama-3.3-70b-instruct:free", context_length=131072),
    model("qwen/qwen3-coder:free", context_length=262144),
    model("openai/gpt-4o", prompt="0.0000025", completion="0.00001"),
]
# What a faulty sync must not have stored: had it succeeded, this would change the data.
CHANGED = [*BASE, model("deepseek/deepseek-r1-0528:free")]
ERROR = "catalog: error: "
RETRY_WARNING = "failed: "  # "catalog: GET <url> failed: <why>; retrying in 0.5 s (attempt 2 of 5)"


# ---------------------------------------------------------------- shared helpers (test_security uses them)


class OffsetClock:
    """fetch's monotonic() and sleep(): sleeping moves the clock on at once, real time still runs,
    so retries follow their real schedule without the test waiting for it."""

    def __init__(self) -> None:
        import time

        self._real = time.monotonic
        self.offset = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._real() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch) -> OffsetClock:
    fake = OffsetClock()
    monkeypatch.setattr(fetch_mod, "sleep", fake.sleep)
    monkeypatch.setattr(fetch_mod, "monotonic", fake.monotonic)
    return fake


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    # httpx honours *_PROXY variables; the local server must be reached directly.
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)


def sync(cli, url: str, *extra, db: str = "reg.db", out: str | Path = "out", timeout: str = "10"):
    return cli("sync", "--db", db, "--api-url", url, "--out", out, "--timeout", timeout, *extra)


def registry_data(db: Path) -> dict[str, list]:
    """Every table but `runs`, and the schema, as sorted rows."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        data = {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables if t != "runs"}
        data["sqlite_master"] = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr)
    return data


def run_rows(db: Path) -> list[tuple]:
    return rows(db, "SELECT id, status, error FROM runs ORDER BY id")


def file_states(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under the folder (hidden ones too): its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def error_line(err: str, *, retries: bool = False) -> str:
    """The one `catalog: error:` line, last on stderr; before it only retry warnings may appear."""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert err.endswith("\n") and lines, err
    assert lines[-1].startswith(ERROR), err
    assert sum(line.startswith(ERROR) for line in lines) == 1, err
    if retries:
        assert all(line.startswith("catalog: GET ") and RETRY_WARNING in line for line in lines[:-1]), err
    else:
        assert len(lines) == 1, err
    return lines[-1].removeprefix(ERROR)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1/models"


# ---------------------------------------------------------------- the faults


@dataclass
class Env:
    api: Any
    tmp: Path
    db: Path
    monkeypatch: Any
    stack: ExitStack
    clock: OffsetClock


@dataclass
class Fault:
    name: str
    answer: Any = None  # served by the fake API for every request
    expect: tuple[str, ...] = ()  # substrings of the error line
    requests: tuple[int, int] | None = (1, 1)  # bounds on the requests the API saw
    retries: bool = False  # retry warnings may precede the error line
    code: int = 1
    failed_row: bool = True  # a failed run is recorded
    url: Callable[[Env], str] | None = None  # instead of the fake API's URL
    args: tuple[str, ...] = ()
    timeout: str = "10"
    setup: Callable[[Env], None] | None = None  # after the good sync, before the snapshot
    check: Callable[[Env], None] | None = None

    def __str__(self) -> str:
        return self.name


def hold_registry_lock(env: Env) -> None:
    from catalog.registry.lock import registry_lock

    # flock conflicts between two open() calls even in one process: this is "another sync".
    env.stack.enter_context(registry_lock(str(env.db)))


def hold_sqlite_write_lock(env: Env) -> None:
    # The writer waits BUSY_TIMEOUT_MS (10 s) for SQLite's lock; a short wait keeps the test fast.
    env.monkeypatch.setattr("catalog.registry.engines.BUSY_TIMEOUT_MS", 200)
    conn = sqlite3.connect(env.db, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    env.stack.callback(conn.close)
    env.stack.callback(conn.execute, "ROLLBACK")


def newer_schema(env: Env) -> None:
    with sqlite3.connect(env.db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")


def little_was_read(env: Env) -> None:
    # Refused as soon as the bound passed: the server could not send anywhere near everything.
    assert env.api.bytes_sent < 20_000_000, env.api.bytes_sent


def retry_after_honoured(env: Env) -> None:
    assert env.clock.sleeps == [1.0] * (fetch_mod.MAX_ATTEMPTS - 1)


ALL_ATTEMPTS = (fetch_mod.MAX_ATTEMPTS, fetch_mod.MAX_ATTEMPTS)
NO_REQUEST = (0, 0)


def retried(status: int) -> Fault:
    expect = (f"HTTP {status}", "upstream trouble", "gave up after 5 attempts", "try again later")
    return Fault(f"http-{status}", error_reply(status, "upstream trouble"), expect, ALL_ATTEMPTS, retries=True)


FAULTS = [
    retried(500),
    retried(502),
    retried(503),
    retried(524),
    retried(529),
    Fault(
        "429-retry-after",
        error_reply(429, "slow down", {"Retry-After": "1"}),
        ("HTTP 429", "gave up after 5 attempts"),
        ALL_ATTEMPTS,
        retries=True,
        check=retry_after_honoured,
    ),
    Fault(
        "429-no-retry-after",
        error_reply(429, "slow down"),
        ("HTTP 429", "gave up after 5 attempts"),
        ALL_ATTEMPTS,
        retries=True,
    ),
    Fault(
        "429-retry-after-past-timeout",
        error_reply(429, "slow down", {"Retry-After": "120"}),
        ("rate-limited the request (HTTP 429)", "asked to wait 120 s", "past the 10 s timeout"),
    ),
    Fault("http-401", error_reply(401, "No auth credentials found"), ("HTTP 401", "check OPENROUTER_API_KEY")),
    Fault("http-403", error_reply(403, "forbidden"), ("HTTP 403", "check OPENROUTER_API_KEY")),
    Fault("http-404", error_reply(404, "not found"), ("HTTP 404", "check --api-url")),
    Fault(
        "connection-refused",
        None,
        ("could not connect", "gave up after 5 attempts"),
        None,
        retries=True,
        url=lambda env: closed_port_url(),
    ),
    Fault("no-answer-timeout", hang(), ("no answer in time", "raise --timeout"), retries=True, timeout="1"),
    Fault("reset-mid-body", reset_mid_body(), ("the connection broke",), ALL_ATTEMPTS, retries=True),
    Fault("body-shorter-than-content-length", short_body(), ("the connection broke",), ALL_ATTEMPTS, retries=True),
    Fault("not-json", reply(b'{"data": [oops'), ("the answer is not JSON",)),
    Fault(
        "html-200",
        reply("<!DOCTYPE html><html><body>Cloudflare says hi</body></html>", headers={"Content-Type": "text/html"}),
        ("not JSON (it looks like an HTML page)",),
    ),
    Fault(
        "error-object-200",
        reply({"error": {"code": 502, "message": "provider down"}}),
        ("the API answered with an error: provider down (code 502)",),
    ),
    Fault("json-array", reply([model("a/b:free")]), ("not a JSON object with a `data` list",)),
    Fault("data-missing", reply({"models": [model("a/b:free")]}), ("has no `data` key",)),
    Fault("data-not-a-list", reply({"data": {"a/b:free": model("a/b:free")}}), ("`data` that is not a list",)),
    Fault("data-empty", reply({"data": []}), ("lists no models",)),
    Fault(
        "too-large-streamed",
        huge_body(64 * 1024 * 1024),
        ("larger than the 1,000,000-byte limit",),
        args=("--max-bytes", "1000000"),
        check=little_was_read,
    ),
    Fault(
        "too-large-declared",
        huge_body(64 * 1024 * 1024, chunked=False),
        ("it declares 67,108,864 bytes",),
        args=("--max-bytes", "1000000"),
        check=little_was_read,
    ),
    Fault("not-utf8", reply(b'{"data": [{"id": "caf\xe9/x:free"}]}'), ("not UTF-8",)),
    Fault(
        "mass-removal",
        reply(catalog_doc([*BASE[3:], model("x/paid", prompt="1", completion="1")])),
        ("would remove 3 of the 3 free models", "--allow-mass-removal"),
    ),
    Fault("redirect-loop", redirect("/api/v1/models"), ("redirected more than 5 times",), (6, 6)),
    Fault("redirect-to-file-scheme", redirect("file:///etc/passwd"), ("not http or https",)),
    Fault(
        "registry-locked",
        reply(catalog_doc(CHANGED)),
        ("another sync is running", "--wait"),
        NO_REQUEST,
        code=EXIT_LOCKED,
        failed_row=False,
        setup=hold_registry_lock,
    ),
    Fault(
        "sqlite-write-locked",
        reply(catalog_doc(CHANGED)),
        ("is locked by another process",),
        NO_REQUEST,
        failed_row=False,
        setup=hold_sqlite_write_lock,
    ),
    Fault(
        "newer-schema",
        reply(catalog_doc(CHANGED)),
        ("newer than this catalog knows", "upgrade catalog"),
        NO_REQUEST,
        failed_row=False,
        setup=newer_schema,
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_fault_changes_nothing_but_a_failed_run(cli, fake_api, tmp_path, monkeypatch, clock, fault):
    db, out = tmp_path / "reg.db", tmp_path / "out"
    fake_api.serve(catalog_doc(BASE))
    good = sync(cli, fake_api.url)
    assert good.code == 0, good.err
    with ExitStack() as stack:
        env = Env(fake_api, tmp_path, db, monkeypatch, stack, clock)
        if fault.setup:
            fault.setup(env)
        data, runs, files = registry_data(db), run_rows(db), file_states(out)
        assert set(files) == set(GENERATED_FILES)
        fake_api.requests.clear()
        if fault.answer is not None:
            fake_api.serve(fault.answer)
        url = fault.url(env) if fault.url else fake_api.url
        bad = sync(cli, url, *fault.args, timeout=fault.timeout)
    assert bad.code == fault.code, bad.err
    assert bad.out == ""
    message = error_line(bad.err, retries=fault.retries)
    for text in fault.expect:
        assert text in message
    if fault.requests is not None:
        low, high = fault.requests
        assert low <= len(fake_api.requests) <= high, fake_api.requests
    assert registry_data(db) == data
    after = run_rows(db)
    if fault.failed_row:
        assert after[:-1] == runs and after[-1][1:] == ("failed", message)
    else:
        assert after == runs
    assert file_states(out) == files
    if fault.check:
        fault.check(env)
    if fault.name != "newer-schema":  # the registry stays usable: the next good sync works
        fake_api.serve(catalog_doc(CHANGED))
        again = sync(cli, fake_api.url)
        assert again.code == 0 and "+1 added" in again.out, again.err


def test_retries_stay_within_the_timeout(cli, fake_api, tmp_path, clock):
    """With a short timeout the backoff schedule is cut short: fewer attempts, never a wait past it."""
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api.url).code == 0
    fake_api.serve(error_reply(503, "busy"))
    fake_api.requests.clear()
    bad = sync(cli, fake_api.url, timeout="2")
    assert bad.code == 1
    assert "gave up after 3 attempts" in error_line(bad.err, retries=True)
    assert len(fake_api.requests) == 3 and clock.sleeps == [0.5, 1.0]


# ---------------------------------------------------------------- malformed entries: skipped, the rest synced


def test_entries_with_wrong_types_are_skipped_and_counted(cli, fake_api, tmp_path):
    db = tmp_path / "reg.db"
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api.url).code == 0
    bad = [
        {**model("x/id-number:free"), "id": 12345},
        model("x/context-string:free", context_length="131072"),
        {**model("x/pricing-list:free"), "pricing": ["0", "0"]},
        {**model("x/arch-string:free"), "architecture": "text->text"},
        "not an object",
        None,
    ]
    fake_api.serve(catalog_doc(CHANGED + bad))
    done = sync(cli, fake_api.url)
    assert done.code == 0, done.err
    assert "+1 added" in done.out and "-0 removed" in done.out and "6 entries skipped" in done.out
    assert rows(db, "SELECT skipped, catalog_size, free_count FROM runs ORDER BY id DESC LIMIT 1") == [(6, 11, 4)]
    warnings = [line for line in done.err.splitlines() if "skipped entry" in line]
    assert len(warnings) == 6 and len(done.err.splitlines()) == 6
    assert "skipped entry #6 (x/context-string:free): `context_length` is a str, not an integer" in done.err
    assert "`pricing` is a list, not an object" in done.err
    assert rows(db, "SELECT count(*) FROM models WHERE id LIKE 'x/%'") == [(0,)]
    free = {m["id"] for m in cli("models", "--db", "reg.db", "--format", "json").json()}
    assert free == {m["id"] for m in CHANGED if m["id"].endswith(":free")}


def test_a_known_model_turned_malformed_is_kept_not_removed(cli, fake_api, tmp_path):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api.url).code == 0
    broken = {**BASE[0], "pricing": ["0", "0"]}
    fake_api.serve(catalog_doc([broken, *BASE[1:]]))
    done = sync(cli, fake_api.url)
    assert done.code == 0 and "-0 removed" in done.out and "1 entries skipped" in done.out, done.err
    assert rows(tmp_path / "reg.db", "SELECT is_free FROM models WHERE id = ?", BASE[0]["id"]) == [(1,)]


def test_duplicate_ids_first_entry_wins_with_a_warning(cli, fake_api, tmp_path):
    db = tmp_path / "reg.db"
    first = model("dup/model:free", context_length=32768, name="Dup: first")
    second = model("dup/model:free", context_length=999, name="Dup: second")
    fake_api.serve(catalog_doc([*BASE, first, second, dict(second, name="Dup: third")]))
    done = sync(cli, fake_api.url)
    assert done.code == 0, done.err
    assert "4 free" in done.out and "2 entries skipped" in done.out
    assert done.err.count("duplicate id 'dup/model:free': the first entry is kept") == 2
    assert rows(db, "SELECT name, context_length FROM model_versions WHERE model_id = 'dup/model:free'") == [
        ("Dup: first", 32768)
    ]


def test_unknown_fields_and_nested_objects_are_ignored(cli, fake_api, tmp_path):
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api.url).code == 0
    before = registry_data(tmp_path / "reg.db")
    strange = [
        dict(
            m,
            brand_new_field={"nested": {"deeper": [1, {"x": None}]}},
            architecture=dict(m["architecture"], new_thing=[{"a": 1}]),
            top_provider=dict(m["top_provider"], routing={"zones": ["eu", "us"]}),
            pricing=dict(m["pricing"], web_search="0", internal_reasoning="0"),
            endpoints=[{"provider": "x", "latency": 1.5}],
        )
        for m in BASE
    ]
    fake_api.serve(catalog_doc(strange, total_count=4, meta={"next": None}))
    done = sync(cli, fake_api.url)
    assert done.code == 0 and done.err == "", done.err
    assert "+0 added" in done.out and "0 changed" in done.out and "skipped" not in done.out
    after = registry_data(tmp_path / "reg.db")
    assert {t: after[t] for t in ("model_versions", "events")} == {t: before[t] for t in ("model_versions", "events")}


# ---------------------------------------------------------------- the output folder cannot be written


@pytest.mark.parametrize("where", ["below-a-file", "is-a-file"])
def test_unwritable_output_keeps_the_sync_and_says_files_are_stale(cli, fake_api, tmp_path, where):
    db, out = tmp_path / "reg.db", tmp_path / "out"
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api.url).code == 0
    old = file_states(out)
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file\n")
    bad_out = blocker / "generated" if where == "below-a-file" else blocker
    fake_api.serve(catalog_doc(CHANGED))
    bad = sync(cli, fake_api.url, out=bad_out)
    assert bad.code == 1
    message = error_line(bad.err)
    assert "stale" in message and str(blocker) in message
    assert "+1 added" in bad.out  # the sync itself happened and was reported
    assert rows(db, "SELECT status, added FROM runs ORDER BY id DESC LIMIT 1") == [("ok", 1)]
    assert blocker.read_text() == "a regular file\n"
    assert file_states(out) == old
    # The next successful run rewrites the files from the registry, even with nothing new to store.
    again = sync(cli, fake_api.url)
    assert again.code == 0 and again.err == "", again.err
    assert "+0 added" in again.out
    assert "deepseek-r1-0528" not in old["free-models.md"][0].decode()
    assert "deepseek-r1-0528" in (out / "free-models.md").read_text()


# ---------------------------------------------------------------- a read-only registry


def unprivileged_prefix() -> list[str] | None:
    """A command prefix under which file permissions apply, or None.

    As root, chmod does not stop writes; dropping the capabilities that bypass permissions
    (DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER) from the bounding set makes root's writes obey them,
    while the interpreter under /root (0700) stays reachable because root still owns it."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"]
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.write_text("x")
        probe.chmod(0o444)
        done = subprocess.run(
            [*prefix, sys.executable, "-c", f"open({str(probe)!r}, 'a')"], capture_output=True, timeout=60
        )
    return prefix if done.returncode != 0 else None


@pytest.mark.parametrize("what", ["file", "file-and-folder"])
def test_read_only_registry_fails_with_one_clear_line(cli, fake_api, tmp_path, what):
    prefix = unprivileged_prefix()
    if prefix is None:
        pytest.skip("running as root and cannot drop the capabilities that bypass file permissions (setpriv)")
    db, out = tmp_path / "reg.db", tmp_path / "out"
    fake_api.serve(catalog_doc(BASE))
    assert sync(cli, fake_api.url).code == 0
    data, runs, files = registry_data(db), run_rows(db), file_states(out)
    fake_api.serve(catalog_doc(CHANGED))
    db.chmod(0o444)
    if what == "file-and-folder":
        tmp_path.chmod(0o555)
    try:
        done = subprocess.run(
            [
                *prefix,
                sys.executable,
                "-m",
                "catalog",
                "sync",
                "--db",
                str(db),
                "--api-url",
                fake_api.url,
                "--out",
                str(out),
                "--timeout",
                "10",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k != "CATALOG_DB"},
        )
    finally:
        tmp_path.chmod(0o755)
        db.chmod(0o644)
    assert done.returncode == 1, done.stderr
    message = error_line(done.stderr)
    assert "registry" in message and str(db.name) in message
    assert "permission" in message or "read" in message
    assert registry_data(db) == data and run_rows(db) == runs
    assert file_states(out) == files
