"""`--reserve` holds across processes, as the budget does: probes started together, which all read
the same `remaining` from /key, share the requests above the reserve instead of each taking them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from conftest import REPO, rows
from fakeapi import Answer, catalog_doc, completion_stream, endpoint, endpoints_doc, endpoints_path, model, reply

KEY = "sk-or-v1-reserve-0123456789abcdef"
MODELS = ["a/alpha-70b:free", "b/beta-70b:free", "c/gamma-8b:free", "d/delta-8b:free"]
PROCESSES = 4
RESERVE = 20


class AllTogether(Answer):
    """Holds each call until `n` are inside at once (or `patience` s pass), then answers them all:
    every process has read /key before any of them probes."""

    def __init__(self, answer: Answer, n: int, patience: float = 60.0):
        self.answer, self.n, self.patience = answer, n, patience
        self.arrived = 0
        self.lock = threading.Lock()
        self.all_in = threading.Event()

    def write(self, handler) -> None:
        with self.lock:
            self.arrived += 1
            if self.arrived >= self.n:
                self.all_in.set()
        self.all_in.wait(self.patience)  # bounded: a lone call is answered after `patience` s
        self.answer.write(handler)


@pytest.fixture
def synced(cli, fake_api, monkeypatch, db_url):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    fake_api.db = db_url
    fake_api.serve(catalog_doc([model(m) for m in MODELS]))
    for m in MODELS:
        fake_api.route(endpoints_path(m), endpoints_doc(m, endpoint()))
    assert cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render").code == 0
    return fake_api


def probe_all_at_once(api, tmp_path, remaining: int) -> list[tuple[int, str, str]]:
    key = {"data": {"free_model_daily_requests": {"used": 50 - remaining, "limit": 50, "remaining": remaining}}}
    together = AllTogether(reply(key), PROCESSES)
    api.route("/api/v1/key", together)
    api.route("/api/v1/chat/completions", completion_stream())
    env = {**os.environ, "OPENROUTER_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "catalog", "probe", "--db", api.db, "--api-url", api.url]
    args += ["--budget", "50", "--reserve", str(RESERVE), "--no-render", "--format", "json"]
    for m in MODELS:
        args += ["--model", m]
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        for _ in range(PROCESSES)
    ]
    try:
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        together.all_in.set()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate(timeout=30)
    assert together.arrived == PROCESSES  # every process read /key before any probed
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outs, strict=True)]


def test_processes_started_together_share_what_is_above_the_reserve(synced, tmp_path):
    results = probe_all_at_once(synced, tmp_path, remaining=RESERVE + 2)
    assert [code for code, _, _ in results] == [0] * PROCESSES, results
    sent = len(synced.calls_to("/chat/completions"))
    assert sent == 2, results
    assert sum(len(json.loads(out)) for _, out, _ in results) == 2
    assert rows(synced.db, "select count(*) from probes") == [(2,)]
    assert any("above the reserve" in err for _, _, err in results)


def test_probes_already_counted_by_the_key_are_not_counted_twice(synced, tmp_path):
    """A later run reads /key afresh: the probes of earlier runs are in its `remaining` already."""
    probe_all_at_once(synced, tmp_path, remaining=RESERVE + 2)
    results = probe_all_at_once(synced, tmp_path, remaining=RESERVE + 1)
    assert len(synced.calls_to("/chat/completions")) == 3, results


def test_a_probe_in_flight_when_the_key_was_read_counts_against_the_reserve(db_url):
    """Another process's probe reserved before /key was read, but still in flight, may not be in
    the key's `remaining` yet: it counts, so the reserve is never touched."""
    from catalog.registry import health_store
    from catalog.registry.db import writer
    from catalog.state import ProbeRecord
    from catalog.times import day_start, now_utc_seconds

    now = now_utc_seconds()
    today = day_start(now)
    with writer(db_url, purpose="test") as engine:
        with engine.begin() as conn:
            in_flight = health_store.reserve_probe(conn, "a/one:free", now, today, 50)
            finished = health_store.reserve_probe(conn, "b/two:free", now, today, 50)
            assert isinstance(finished, int) and isinstance(in_flight, int)
            health_store.finish_probe(conn, finished, ProbeRecord("b/two:free", "ok", now, 200, 1.0, 2.0, None))
        with engine.connect() as conn:
            quota = health_store.KeyQuota(allowed=2, after=health_store.newest_probe_id(conn))
        with engine.begin() as conn:  # 2 allowed: the one in flight and one more
            assert isinstance(health_store.reserve_probe(conn, "c/three:free", now, today, 50, quota), int)
        with engine.begin() as conn:
            assert health_store.reserve_probe(conn, "d/four:free", now, today, 50, quota) == "reserve"
