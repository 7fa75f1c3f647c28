"""Memory stays bounded whatever a notification target answers: a `catalog sync` (a subprocess,
measured by its peak RSS) whose webhook or Apprise target streams an endless 200 answer, and an
Apprise target that never answers, stopped at its timeout with no process left behind."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import rows
from fakeapi import catalog_doc, model
from receiver import ENDLESS, HANG, receiver  # noqa: F401  (the fixture)

BASE = [model("google/gemma-3-27b-it:free")]
MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=False);"
    " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)  # the peak RSS (KiB) of the sync and of any process it started, and of nothing else


def synced(tmp_path: Path, cfg: Path, models, when: int) -> int:
    """Run `catalog sync` in a subprocess; its peak RSS in MiB."""
    answer = tmp_path / f"answer-{when}.json"
    answer.write_text(json.dumps(catalog_doc(models)))
    command = [sys.executable, "-m", "catalog", "sync", "--db", str(tmp_path / "reg.db"), "--from-file", str(answer)]
    command += ["--config", str(cfg), "--no-render", "--observed-at", f"2026-01-0{when}T00:00:00Z"]
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, timeout=120)
    return int(done.stdout.split()[-1]) // 1024


def test_a_webhook_streaming_an_endless_answer_costs_no_memory(tmp_path, receiver):
    cfg = tmp_path / "catalog.toml"
    cfg.write_text(f'[[notify.webhook]]\nurl = "{receiver.url}"\ntimeout = 5\n')
    synced(tmp_path, cfg, BASE, 1)
    receiver.script.extend([ENDLESS])
    peak = synced(tmp_path, cfg, [*BASE, model("a/new:free")], 2)
    assert peak < 300, f"peak RSS {peak} MiB"
    # A 2xx status is acceptance: delivered, and the body was left unread after a few MiB at most
    assert rows(str(tmp_path / "reg.db"), "SELECT status FROM notifications") == [("delivered",)]
    assert len(receiver.received) == 1


def test_an_apprise_target_streaming_an_endless_answer_costs_bounded_memory(tmp_path, receiver):
    pytest.importorskip("apprise")
    cfg = tmp_path / "catalog.toml"
    cfg.write_text(f'[[notify.apprise]]\nurl = "json://127.0.0.1:{receiver.port}/"\ntimeout = 5\n')
    synced(tmp_path, cfg, BASE, 1)
    receiver.script.extend([ENDLESS])
    peak = synced(tmp_path, cfg, [*BASE, model("a/new:free")], 2)
    assert peak < 300, f"peak RSS {peak} MiB"
    assert len(receiver.received) == 1
    assert rows(str(tmp_path / "reg.db"), "SELECT status FROM notifications")[0][0] in ("delivered", "pending")


def apprise_children() -> list[int]:
    """This process's children running catalog.watch.apprise_call."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"apprise_call" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_an_apprise_target_that_never_answers_is_stopped_at_its_timeout(receiver):
    """Apprise's own read timeout is set to 100 s in the URL: only the whole-call bound stops it."""
    pytest.importorskip("apprise")
    from catalog.config.watch import Target
    from catalog.watch.notify_send import Message, send

    receiver.script.extend([HANG])
    target = Target("apprise", f"json://127.0.0.1:{receiver.port}/?cto=100&rto=100", timeout=2)
    started = time.monotonic()
    error = send(target, Message("t", "b"), delivery="1")
    assert error == "timed out after 2 s"
    assert time.monotonic() - started < 10  # the receiver holds the request for 30 s
    assert len(receiver.received) == 1 and not receiver.release.is_set()
    assert apprise_children() == []  # killed and reaped: nothing goes on reading
