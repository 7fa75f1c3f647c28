"""One sync at a time: the registry lock, across real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import rows
from fakeapi import Answer, catalog_doc, model, reply

from catalog.errors import EXIT_LOCKED, LockedError
from catalog.registry.lock import lock_path, read_holder, registry_lock

HOLD = """
import sys
from catalog.registry.lock import registry_lock
with registry_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.readline()
"""

# Takes the flock without writing a holder note: the moment between a sync's flock and its note.
HOLD_SILENTLY = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
"""


class Holder:
    """A separate process holding the lock until `release()` (or until it is killed)."""

    def __init__(self, script: str, target: str | Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script, str(target)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout.readline().strip() == "locked"
        self.pid = self.proc.pid

    def release(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.wait(timeout=10) == 0

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def holders():
    started: list[Holder] = []

    def start(target, script: str = HOLD) -> Holder:
        holder = Holder(script, target)
        started.append(holder)
        return holder

    yield start
    for holder in started:
        holder.close()


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "catalog.db")


def catalog_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "catalog", *map(str, args)]


def test_lock_file_sits_beside_the_sqlite_file(tmp_path):
    expected = (tmp_path / "catalog.db.lock").resolve()
    assert lock_path(str(tmp_path / "catalog.db")) == expected
    assert lock_path(f"sqlite:///{tmp_path}/catalog.db") == expected
    os.symlink(tmp_path / "catalog.db", tmp_path / "alias.db")
    assert lock_path(str(tmp_path / "alias.db")) == expected  # one file, one lock


def test_other_urls_lock_a_file_named_by_their_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOG_LOCK_DIR", str(tmp_path))
    first = lock_path("postgresql://db.example/catalog")
    assert first.parent == tmp_path
    assert first != lock_path("postgresql://db.example/other")
    assert first == lock_path("postgresql://db.example/catalog")


def test_a_second_sync_fails_at_once_naming_the_holder(db, holders):
    holder = holders(db)
    with pytest.raises(LockedError) as caught, registry_lock(db):
        pytest.fail("took a lock that another process holds")
    message = str(caught.value)
    assert message.startswith(f"another sync is running (pid {holder.pid}, since ")
    assert "--wait SECONDS" in message
    assert "\n" not in message
    assert caught.value.exit_code == EXIT_LOCKED


def test_cli_sync_exits_75_while_another_sync_runs(db, holders, answer_file):
    holder = holders(db)
    doc = answer_file(catalog_doc([model("a/one:free")]))
    done = subprocess.run(
        catalog_cmd("sync", "--db", db, "--from-file", doc, "--no-render"), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 75
    assert f"another sync is running (pid {holder.pid}, since " in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not Path(db).exists()  # refused before touching the registry


def test_the_lock_of_a_killed_process_is_taken_over_at_once(db, holders):
    holder = holders(db)
    holder.kill()
    # The dead holder's note is still in the file; the kernel released its flock.
    assert json.loads(lock_path(db).read_text())["pid"] == holder.pid
    assert read_holder(lock_path(db)) is None
    with registry_lock(db) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert path.read_text() == ""  # a clean release leaves no note behind


def test_a_stale_note_is_not_reported_as_the_holder(db, holders):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    path = lock_path(db)
    path.write_text(json.dumps({"pid": dead.pid, "since": "2026-01-01T00:00:00Z", "host": socket.gethostname()}))
    holders(path, HOLD_SILENTLY)
    with pytest.raises(LockedError) as caught, registry_lock(db):
        pass
    assert str(caught.value) == "another sync is running; try again later or pass --wait SECONDS"


def test_wait_gives_up_after_the_deadline(db, holders):
    holder = holders(db)
    with pytest.raises(LockedError) as caught, registry_lock(db, wait=0.2):
        pass
    assert str(caught.value).startswith(f"another sync is still running after 0.2 s (pid {holder.pid}")


def test_wait_succeeds_once_the_holder_releases(db, holders, answer_file):
    holder = holders(db)
    doc = answer_file(catalog_doc([model("a/one:free")]))
    waiter = subprocess.Popen(
        catalog_cmd("sync", "--db", db, "--from-file", doc, "--no-render", "--wait", "60"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = waiter.stderr.readline()  # it announces the wait once it has found the lock taken
        assert "waiting up to 60 s for another sync" in line and f"pid {holder.pid}" in line
        assert waiter.poll() is None
        holder.release()
        out, err = waiter.communicate(timeout=60)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err
    assert "1 free" in out
    assert rows(Path(db), "SELECT status FROM runs") == [("ok",)]


class Gated(Answer):
    """Holds every request until the test opens the gate: a sync that is still fetching."""

    def __init__(self, inner: Answer):
        self.inner = inner
        self.gate = threading.Event()

    def write(self, handler) -> None:
        self.gate.wait(30)
        self.inner.write(handler)


def test_two_syncs_started_together_never_both_run(db, fake_api):
    answer = Gated(reply(catalog_doc([model("a/one:free"), model("b/two:free")])))
    fake_api.serve(answer)
    args = ("sync", "--db", db, "--api-url", fake_api.url, "--no-render", "--timeout", "30")
    procs = [
        subprocess.Popen(catalog_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.02)
        loser = next(p for p in procs if p.poll() is not None)  # StopIteration: neither was refused
        winner = next(p for p in procs if p is not loser)
        # The winner is inside its sync (its request is held at the gate), the loser was refused.
        assert loser.returncode == 75
        _, err = loser.communicate(timeout=10)
        assert f"another sync is running (pid {winner.pid}, since " in err
        assert fake_api.wait_for_requests(1, timeout=30)  # the winner reaches the API...
        answer.gate.set()
        _out, err = winner.communicate(timeout=30)
        assert winner.returncode == 0, err
        assert len(fake_api.requests) == 1  # ...and it alone did
    finally:
        answer.gate.set()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)
    assert rows(Path(db), "SELECT status, free_count FROM runs") == [("ok", 2)]
