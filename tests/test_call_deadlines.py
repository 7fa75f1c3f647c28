"""Every call to OpenRouter ends by its deadline whatever the server does: headers one byte at a
time, a body one byte at a time, a body that never ends. The models fetch, /endpoints, /key and
chat probes (plain JSON and streamed); and a sync's total time stays within the sum of its
documented deadlines, the lock with it. Bounds are generous: each server would take minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import REPO, rows
from fakeapi import (
    Drip,
    catalog_doc,
    chunk,
    endpoint,
    endpoints_doc,
    endpoints_path,
    model,
    never_ending,
    raw_head,
    trickling_body,
    trickling_head,
)

from catalog.settings import Settings
from catalog.sync import run_once

KEY = "sk-or-v1-deadline-0123456789abcdef"
CHAT = "/api/v1/chat/completions"
KEY_PATH = "/api/v1/key"
MODELS = ["a/alpha-70b:free", "b/beta-8b:free", "c/gamma-8b:free", "d/delta-8b:free"]
SLACK = 6.0  # start-up, store and render on a busy machine; the servers below take minutes
KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
COMPLETION = {"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}]}
KEY_ANSWER = {"data": {"free_model_daily_requests": {"used": 0, "limit": 1000, "remaining": 999}}}


def stalls(kind: str, body: object, content_type: str = "application/json") -> Drip:
    if kind == "head":
        return trickling_head(body, content_type=content_type)
    if kind == "body":
        return trickling_body(body, content_type=content_type)
    return never_ending(KEEPALIVE if content_type == "text/event-stream" else b" ", content_type=content_type)


KINDS = ["head", "body", "endless"]


@pytest.fixture
def synced(cli, fake_api, monkeypatch, tmp_path):
    """A registry of MODELS, healthy; the key set and /key reporting plenty left."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    fake_api.db = str(tmp_path / "reg.db")
    fake_api.serve(catalog_doc([model(m) for m in MODELS]))
    for m in MODELS:
        fake_api.route(endpoints_path(m), endpoints_doc(m, endpoint()))
    fake_api.route(KEY_PATH, KEY_ANSWER)
    assert cli("sync", "--db", fake_api.db, "--api-url", fake_api.url, "--no-render").code == 0
    return fake_api


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def probe_args(api, *extra: str) -> list[str]:
    return ["probe", "--db", api.db, "--api-url", api.url, "--reserve", "0", "--no-render", "--format", "json", *extra]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content_type", ["application/json", "text/event-stream"])
def test_a_probe_ends_by_its_timeout(cli, synced, kind, content_type):
    body = COMPLETION if content_type == "application/json" else chunk("ok", finish="stop") + "\n\ndata: [DONE]\n\n"
    synced.route(CHAT, stalls(kind, body, content_type))
    out, took = timed(lambda: cli(*probe_args(synced, "--timeout", "3", "--model", MODELS[0])))
    assert out.code == 0, out.err
    assert [r["outcome"] for r in out.json()] == ["timeout"]
    assert took < 3 + SLACK


def test_a_stream_cut_after_its_first_token_keeps_its_time_to_first_token(cli, synced):
    first = (chunk("o") + "\n\n").encode()
    synced.route(CHAT, Drip(raw_head(200, "text/event-stream"), first, pause=0.01, endless=KEEPALIVE))
    out, took = timed(lambda: cli(*probe_args(synced, "--timeout", "2", "--model", MODELS[0])))
    (result,) = out.json()
    assert (result["outcome"], result["http_status"]) == ("timeout", 200)
    assert result["ttft_ms"] is not None and result["total_ms"] is None
    assert took < 2 + SLACK


@pytest.mark.parametrize("kind", KINDS)
def test_reading_the_key_ends_by_the_probe_timeout(cli, synced, kind):
    synced.route(KEY_PATH, stalls(kind, KEY_ANSWER))
    out, took = timed(lambda: cli(*probe_args(synced, "--timeout", "2", "--model", MODELS[0])))
    assert out.code == 1 and "no probe was sent" in out.err and out.err.count("\n") == 1
    assert synced.calls_to("/chat/completions") == []
    assert took < 2 + SLACK


@pytest.mark.parametrize("kind", KINDS)
def test_the_models_fetch_ends_by_its_timeout(cli, fake_api, tmp_path, kind):
    fake_api.serve(stalls(kind, catalog_doc([model(m) for m in MODELS])))
    out, took = timed(lambda: cli("sync", "--db", tmp_path / "reg.db", "--api-url", fake_api.url, "--timeout", "2"))
    assert out.code == 1 and "timeout" in out.err and out.err.count("\n") == 1, out.err
    assert took < 2 + SLACK


def test_health_calls_end_by_the_health_timeout(cli, synced):
    for kind, m in zip(KINDS, MODELS, strict=False):
        synced.route(endpoints_path(m), stalls(kind, endpoints_doc(m, endpoint())))
    out, took = timed(lambda: cli("sync", "--db", synced.db, "--api-url", synced.url, "--health-timeout", "3"))
    assert out.code == 0, out.err
    assert took < 3 + SLACK
    states = dict(
        rows(synced.db, "select model_id, state from health_checks where run_id = (select max(id) from runs)")
    )
    assert states == {MODELS[0]: "unknown", MODELS[1]: "unknown", MODELS[2]: "unknown", MODELS[3]: "up"}


def test_the_sync_lock_is_not_held_past_the_health_timeout(synced, tmp_path):
    """A second sync waiting for the lock gets it within the first one's bound."""
    for m in MODELS:
        synced.route(endpoints_path(m), never_ending())
    env = {**os.environ, "OPENROUTER_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    base = [sys.executable, "-m", "catalog", "sync", "--db", synced.db, "--api-url", synced.url, "--no-render"]
    before = len(synced.calls_to("/endpoints"))  # the fixture's own sync sampled them once already
    first = subprocess.Popen([*base, "--health-timeout", "3"], env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        sampling = lambda: len(synced.calls_to("/endpoints")) > before  # noqa: E731 - a condition, polled
        while not sampling() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)  # polling for an event (the first sync is sampling, under the lock)
        assert sampling(), "the first sync never reached its health sample"
        second, took = timed(
            lambda: subprocess.run(
                [*base, "--no-health", "--wait", "120"], env=env, cwd=tmp_path, capture_output=True, timeout=120
            )
        )
        assert second.returncode == 0, second.stderr
        assert took < 3 + SLACK
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=30)
    assert first.returncode == 0


def test_a_sync_trickled_at_every_call_ends_within_the_sum_of_its_deadlines(fake_api, tmp_path):
    """Models answer slowly but in time; /endpoints never end; /key trickles: the sync ends within
    --timeout + --health-timeout + the probe timeout (no probe sent) + store and render."""
    doc = json.dumps(catalog_doc([model(m) for m in MODELS])).encode()
    fake_api.serve(Drip(raw_head(200, "application/json", len(doc)), doc, pause=0.01, step=512))
    for m in MODELS:
        fake_api.route(endpoints_path(m), never_ending())
    fake_api.route(KEY_PATH, trickling_head(KEY_ANSWER))
    settings = Settings(
        db=str(tmp_path / "reg.db"),
        api_url=fake_api.url,
        api_key=KEY,
        out_dir=tmp_path / "generated",
        timeout=3,
        health_timeout=2,
        probe=True,
        probe_timeout=2,
        probe_reserve=0,
    )
    result, took = timed(lambda: run_once(settings))
    assert result.health is not None and result.health.counts["unknown"] == len(MODELS)
    assert any(note.startswith("no probes:") for note in result.notes), result.notes
    assert took < 3 + 2 + 2 + SLACK
