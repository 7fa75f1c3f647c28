"""Answers whose content catalog does not keep are read only to a small bound: a server answering
hundreds of megabytes to a probe, to /key or to /endpoints sends little before catalog hangs up,
and the call fails on its own (the other models' samples and probes go on)."""

from __future__ import annotations

import pytest
from conftest import rows
from fakeapi import catalog_doc, endpoint, endpoints_doc, endpoints_path, huge_body, model

from catalog.availability.probe import MAX_ANSWER

KEY = "sk-or-v1-bounded-0123456789abcdef"
CHAT = "/api/v1/chat/completions"
KEY_PATH = "/api/v1/key"
MODELS = ["a/alpha-70b:free", "b/beta-8b:free"]
HUGE = 300 * 1024 * 1024  # would take seconds to send in full, and as much memory to keep
SENT_AT_MOST = 16 * 1024 * 1024  # the bound read plus what the sockets' buffers took meanwhile
KEY_ANSWER = {"data": {"free_model_daily_requests": {"used": 0, "limit": 1000, "remaining": 999}}}


@pytest.fixture
def synced(cli, fake_api, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    fake_api.db = str(tmp_path / "reg.db")
    fake_api.serve(catalog_doc([model(m) for m in MODELS]))
    for m in MODELS:
        fake_api.route(endpoints_path(m), endpoints_doc(m, endpoint()))
    fake_api.route(KEY_PATH, KEY_ANSWER)
    assert cli("sync", "--db", fake_api.db, "--api-url", fake_api.url, "--no-render").code == 0
    fake_api.bytes_sent = 0
    return fake_api


def probe(cli, api, *models: str):
    args = ["probe", "--db", api.db, "--api-url", api.url, "--reserve", "0", "--no-render", "--format", "json"]
    for m in models:
        args += ["--model", m]
    return cli(*args)


@pytest.mark.parametrize(
    "answer, outcome, detail",
    [
        (huge_body(HUGE), "error", f"the answer is larger than {MAX_ANSWER} bytes"),
        (huge_body(HUGE, content_type="text/event-stream"), "error", f"the answer is larger than {MAX_ANSWER} bytes"),
        (huge_body(HUGE, status=429), "rate_limited", "HTTP 429"),
        (huge_body(HUGE, status=503, chunked=False), "error", "HTTP 503"),
    ],
    ids=["json", "a-stream-line-that-never-ends", "an-error-body", "an-error-body-with-its-length"],
)
def test_a_huge_probe_answer_is_read_only_to_its_bound(cli, synced, answer, outcome, detail):
    synced.route(CHAT, answer)
    out = probe(cli, synced, *MODELS)
    assert out.code == 0, out.err
    results = out.json()
    assert [(r["outcome"], r["detail"]) for r in results] == [(outcome, detail)] * len(MODELS)
    assert synced.bytes_sent < len(MODELS) * SENT_AT_MOST


def test_a_huge_key_answer_sends_no_probe(cli, synced):
    synced.route(KEY_PATH, huge_body(HUGE))
    out = probe(cli, synced, MODELS[0])
    assert out.code == 1 and "larger than 65,536 bytes; no probe was sent" in out.err
    assert synced.calls_to("/chat/completions") == [] and synced.bytes_sent < SENT_AT_MOST


def test_a_huge_endpoints_answer_costs_only_its_model(cli, synced):
    synced.route(endpoints_path(MODELS[0]), huge_body(HUGE))
    out = cli("health", "--refresh", "--db", synced.db, "--api-url", synced.url, "--no-render")
    assert out.code == 0, out.err
    health = {h["model_id"]: h for h in cli("health", "--db", synced.db, "--format", "json").json()}
    assert health[MODELS[0]]["state"] == "unknown"
    assert rows(synced.db, "select error from health_checks where model_id = ? order by id desc", MODELS[0])[0] == (
        "the answer is larger than 1048576 bytes",
    )
    assert health[MODELS[1]]["state"] == "up"
    assert synced.bytes_sent < SENT_AT_MOST
