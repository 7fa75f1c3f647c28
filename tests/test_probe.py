"""Active probes: real chat calls to a local server, every outcome, the budget, the key's safety."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO, rows
from fakeapi import (
    Answer,
    Stream,
    Trickle,
    catalog_doc,
    chunk,
    completion_stream,
    endpoint,
    endpoints_doc,
    endpoints_path,
    hang,
    model,
    reply,
)

from catalog.availability.probe import classify_error, json_outcome, stream_outcome

KEY = "sk-or-v1-probe-canary-0123456789abcdef"
CHAT = "/api/v1/chat/completions"
KEY_PATH = "/api/v1/key"

# Bodies shaped like the real ones in shared/openrouter/chat-errors.md.
SHARED_POOL_429 = {
    "error": {
        "message": "Provider returned error",
        "code": 429,
        "metadata": {
            "raw": "google/gemma-4-31b-it:free is temporarily rate-limited upstream. Please retry shortly, or add your own key",
            "provider_name": "Google AI Studio",
            "is_byok": False,
            "provider_error_code": "429",
            "limit_source": "upstream_provider_shared_pool",
        },
    }
}
OLD_SHARED_POOL_429 = {
    "message": "Provider returned error",
    "code": 429,
    "metadata": {
        "raw": "google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream.",
        "provider_name": "Google AI Studio",
    },
}
DAILY_429 = {
    "error": {
        "message": "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day",
        "code": 429,
        "metadata": {
            "headers": {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1788825600000"},
            "limit_source": "openrouter_free_tier_daily",
        },
    }
}
OLD_DAILY_429 = {
    "error": {
        "message": "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day",
        "code": 429,
        "metadata": {"headers": {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0"}},
    }
}
PER_MINUTE_429 = {"error": {"message": "Rate limit exceeded: free-models-per-min.", "code": 429}}
GUARDRAIL_404 = {
    "error": {
        "message": "0 endpoints out of 1 requested are available matching your guardrail restrictions and data policy. We removed them for the following reasons (an endpoint may have matched multiple reasons):\nFree model training violation (guardrail): 1 endpoint excluded",
        "code": 404,
        "metadata": {
            "input_endpoint_count": 1,
            "ineligibility_reasons": [{"reason": "free-model-training-violation-by-guardrail", "endpoint_count": 1}],
            "failed_routing_step": "Filter by Guardrails",
        },
    }
}
PRIVACY_404_2026_09 = {
    "error": {
        "message": "No endpoints available matching your guardrail restrictions\nand data policy. Configure: https://openrouter.ai/settings/privacy",
        "code": 404,
    }
}
PRIVACY_404_OLD = {
    "error": {
        "message": "No endpoints found matching your data policy (Free model training). Configure: https://openrouter.ai/settings/privacy",
        "code": 404,
    }
}
GONE_404 = {"error": {"message": "No endpoints found for nex-agi/nex-n2.5-pro:free.", "code": 404}}
NOT_FREE_404 = {
    "error": {
        "message": "This model is unavailable for free. The paid version is available now - use this slug instead: z-ai/glm-5.2",
        "code": 404,
    }
}
TOOLS_404 = {
    "error": {
        "message": 'No endpoints found that support tool use. Try disabling "read".',
        "code": 404,
        "metadata": {"failed_routing_step": "Filter by Tool Compatibility"},
    }
}
INVALID_400 = {"error": {"message": "minimax-m2.5:free is not a valid model ID", "code": 400}, "user_id": "user_x"}
GATED_403 = {
    "error": {
        "message": "thinkingmachines/inkling:free is only available on agentic harnesses. Try plugging it into a coding agent or productivity app listed on https://openrouter.ai/apps",
        "code": 403,
        "metadata": {
            "routing_funnel": [{"step": "Initial Endpoints", "endpoint_count": 1}],
            "failed_routing_step": "Gate Free Endpoints by Agentic Harness",
        },
    }
}
REGION_403 = {
    "error": {
        "message": "This model is not available in your region.",
        "code": 403,
        "metadata": {"failed_routing_step": "Gate Endpoints with Geo Restrictions"},
    }
}
CREDITS_402 = {
    "error": {
        "message": "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
        "code": 402,
        "metadata": {"limit_source": "openrouter_credits"},
    }
}
CONTEXT_400 = {
    "error": {
        "message": "This endpoint's maximum context length is 16384 tokens. However, you requested about 26265 tokens.",
        "code": 400,
        "metadata": {"provider_name": None},
    }
}


@pytest.mark.parametrize(
    "status, body, outcome",
    [
        (429, SHARED_POOL_429, "rate_limited"),
        (429, {"error": OLD_SHARED_POOL_429}, "rate_limited"),
        (429, DAILY_429, "quota_exhausted"),
        (429, OLD_DAILY_429, "quota_exhausted"),
        (429, PER_MINUTE_429, "quota_exhausted"),
        (404, GUARDRAIL_404, "blocked_by_account"),
        (404, PRIVACY_404_2026_09, "blocked_by_account"),
        (404, PRIVACY_404_OLD, "blocked_by_account"),
        (404, GONE_404, "unavailable"),
        (404, NOT_FREE_404, "unavailable"),
        (400, INVALID_400, "unavailable"),
        (404, TOOLS_404, "error"),
        (403, GATED_403, "gated"),
        (403, REGION_403, "gated"),
        (402, CREDITS_402, "payment_required"),
        (400, CONTEXT_400, "error"),
        (500, None, "error"),
        (502, {"error": {"message": "bad gateway", "code": 502}}, "error"),
    ],
)
def test_error_bodies_classify_by_metadata(status, body, outcome):
    assert classify_error(status, body)[0] == outcome


def test_a_blocked_model_says_which_setting_to_change():
    outcome, detail = classify_error(404, GUARDRAIL_404)
    assert outcome == "blocked_by_account" and "https://openrouter.ai/settings/privacy" in detail


def events(*lines: str) -> list[str]:
    return list(lines)


@pytest.mark.parametrize(
    "lines, outcome",
    [
        ([": OPENROUTER PROCESSING", chunk("o"), chunk("k", finish="stop"), "data: [DONE]"], "ok"),
        ([chunk(reasoning="thinking"), chunk(finish="length"), "data: [DONE]"], "ok"),
        (
            [
                chunk(""),
                "data: "
                + json.dumps(
                    {
                        "choices": [],
                        "error": {"code": 502, "message": "Worker local total request limit reached (33/32)"},
                    }
                ),
            ],
            "error",
        ),
        ([chunk("x"), chunk(finish="error")], "error"),
        ([chunk(finish="length"), "data: [DONE]"], "error"),
        ([": OPENROUTER PROCESSING", "data: [DONE]"], "error"),
        (["data: {not json"], "error"),
    ],
)
def test_streams_are_read_to_an_outcome(lines, outcome):
    ticks = iter(range(100))
    assert stream_outcome(lines, 0.0, 1000.0, clock=lambda: next(ticks) / 10).outcome == outcome


def test_time_to_first_token_is_the_first_content_or_reasoning():
    ticks = iter([0.1, 0.4, 0.9, 1.0, 1.2, 1.3])
    result = stream_outcome(
        [": OPENROUTER PROCESSING", chunk(""), chunk("ok"), chunk(finish="stop"), "data: [DONE]"],
        0.0,
        10.0,
        clock=lambda: next(ticks),
    )
    assert (result.outcome, result.ttft_ms) == ("ok", 900.0)


# ---------------------------------------------------------------- end to end, against a local server


POOLED = ["a/alpha-70b:free", "b/beta-70b:free", "c/gamma-8b:free", "d/delta-8b:free"]


@pytest.fixture
def probing(cli, fake_api, monkeypatch, db_url):
    """A synced registry (on each engine) whose pools name POOLED; the key set; /key reports
    plenty left. `probing.db` is the registry."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    fake_api.db = db_url
    fake_api.serve(catalog_doc([model(m) for m in POOLED]))
    for m in POOLED:
        fake_api.route(endpoints_path(m), endpoints_doc(m, endpoint()))
    fake_api.route(KEY_PATH, key_answer(remaining=45))
    fake_api.route(CHAT, completion_stream())
    assert cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render").code == 0
    return fake_api


def key_answer(remaining: int | None) -> dict:
    quota = None if remaining is None else {"used": 50 - remaining, "limit": 50, "remaining": remaining}
    return {"data": {"label": "sk-or-v1-abc...xyz", "is_free_tier": True, "free_model_daily_requests": quota}}


def chat_models(fake_api) -> list[str]:
    return [json.loads(c["body"])["model"] for c in fake_api.calls_to("/chat/completions")]


def test_probe_needs_the_key(cli, fake_api, answer_file):
    assert cli("sync", "--from-file", answer_file(catalog_doc([model("a/b:free")])), "--no-render").code == 0
    out = cli("probe", "--api-url", fake_api.url)
    assert out.code == 2 and out.err.count("\n") == 1 and "OPENROUTER_API_KEY" in out.err
    assert fake_api.calls == []


def test_default_targets_are_the_pools_fallbacks_first_choices_first(cli, probing, tmp_path):
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "--format", "json")
    assert out.code == 0, out.err
    pools = json.loads((tmp_path / "generated" / "free-model-pool.json").read_text())["fallbacks"]
    firsts = [ids[0] for ids in pools.values() if ids]
    probed = chat_models(probing)
    assert len(probed) == len(set(probed)) and set(probed) == {m for ids in pools.values() for m in ids}
    assert probed[: len(set(firsts))] == list(dict.fromkeys(firsts))
    assert {r["outcome"] for r in out.json()} == {"ok"}
    body = json.loads(probing.calls_to("/chat/completions")[0]["body"])
    assert body["stream"] is True and body["max_tokens"] <= 16 and len(body["messages"]) == 1
    assert probing.calls_to("/chat/completions")[0]["headers"]["Authorization"] == f"Bearer {KEY}"


def test_every_outcome_is_recorded(cli, probing, tmp_path):
    cases = {
        "a/alpha-70b:free": reply(SHARED_POOL_429, status=429),
        "b/beta-70b:free": reply(GUARDRAIL_404, status=404),
        "c/gamma-8b:free": reply(GATED_403, status=403),
        "d/delta-8b:free": Stream(
            [
                chunk("o"),
                "data: "
                + json.dumps(
                    {
                        "choices": [{"delta": {}, "finish_reason": "error"}],
                        "error": {"code": 502, "message": "upstream died"},
                    }
                ),
            ]
        ),
        "e/gone:free": reply(GONE_404, status=404),
        "f/hang:free": hang(),
        "g/ok:free": completion_stream(),
    }
    probing.route(CHAT, *cases.values())
    args = [
        "probe",
        "--db",
        probing.db,
        "--api-url",
        probing.url,
        "--budget",
        "20",
        "--timeout",
        "0.5",
        "--format",
        "json",
        "--no-render",
    ]
    for m in cases:
        args += ["--model", m]
    out = cli(*args)
    assert out.code == 0, out.err
    got = {r["model_id"]: r["outcome"] for r in out.json()}
    assert got == {
        "a/alpha-70b:free": "rate_limited",
        "b/beta-70b:free": "blocked_by_account",
        "c/gamma-8b:free": "gated",
        "d/delta-8b:free": "error",
        "e/gone:free": "unavailable",
        "f/hang:free": "timeout",
        "g/ok:free": "ok",
    }
    assert rows(probing.db, "select count(*) from probe_results") == [(7,)]


@pytest.mark.parametrize("body", [DAILY_429, PER_MINUTE_429])
def test_a_quota_answer_stops_the_run(cli, probing, body):
    probing.route(CHAT, completion_stream(), reply(body, status=429), completion_stream())
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "--format", "json", "--no-render")
    assert out.code == 0
    assert [r["outcome"] for r in out.json()] == ["ok", "quota_exhausted"]
    assert len(chat_models(probing)) == 2 and "whole account" in out.err


def test_no_retry_of_a_rate_limited_probe(cli, probing):
    probing.route(CHAT, reply(SHARED_POOL_429, status=429))
    out = cli(
        "probe",
        "--db",
        probing.db,
        "--api-url",
        probing.url,
        "--model",
        "a/alpha-70b:free",
        "--format",
        "json",
        "--no-render",
    )
    assert [r["outcome"] for r in out.json()] == ["rate_limited"] and len(chat_models(probing)) == 1


def test_the_budget_holds_for_the_day_across_runs(cli, probing):
    assert cli("probe", "--db", probing.db, "--api-url", probing.url, "--budget", "3", "--no-render").code == 0
    assert len(chat_models(probing)) == 3
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "--budget", "3", "--no-render")
    assert out.code == 0 and "budget (3) is used up" in out.err and len(chat_models(probing)) == 3


def test_the_reserve_is_left_for_the_app(cli, probing):
    probing.route(KEY_PATH, key_answer(remaining=22))
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "--reserve", "20", "--no-render")
    assert out.code == 0 and len(chat_models(probing)) == 2
    probing.route(KEY_PATH, key_answer(remaining=20))
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "--reserve", "20", "--no-render")
    assert "keeps 20 for the app" in out.err and len(chat_models(probing)) == 2


def test_a_key_without_the_counter_is_bounded_by_the_budget_alone(cli, probing):
    probing.route(KEY_PATH, key_answer(remaining=None))
    assert cli("probe", "--db", probing.db, "--api-url", probing.url, "--budget", "2", "--no-render").code == 0
    assert len(chat_models(probing)) == 2


@pytest.mark.parametrize("status, message", [(401, "refused OPENROUTER_API_KEY"), (503, "no probe was sent")])
def test_an_unreadable_key_sends_no_probe(cli, probing, status, message):
    probing.route(KEY_PATH, reply({"error": {"code": status, "message": f"no {KEY}"}}, status=status))
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "--no-render")
    assert out.code == 1 and message in out.err and chat_models(probing) == []


class MeetInside(Answer):
    """Holds each chat call until two are inside the server at once (or `patience` s pass), then
    answers: records the most calls that were ever inside together. One `catalog probe` makes its
    calls one after another, so two inside at once are calls of two processes."""

    def __init__(self, answer: Answer, patience: float = 30.0):
        self.answer, self.patience = answer, patience
        self.inside = self.most_inside = 0
        self.met = threading.Event()
        self.lock = threading.Lock()

    def write(self, handler) -> None:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            if self.inside >= 2:
                self.met.set()
        self.met.wait(self.patience)  # bounded: a lone call is answered after `patience` s
        with self.lock:
            self.inside -= 1
        self.answer.write(handler)


def test_the_budget_holds_across_two_processes_at_once(probing, tmp_path):
    meeting = MeetInside(completion_stream())
    probing.route(CHAT, meeting)
    env = {**os.environ, "OPENROUTER_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    args = [
        sys.executable,
        "-m",
        "catalog",
        "probe",
        "--db",
        probing.db,
        "--api-url",
        probing.url,
        "--budget",
        "3",
        "--no-render",
        "--format",
        "json",
    ]
    for m in POOLED:
        args += ["--model", m]
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path) for _ in range(2)
    ]
    try:
        outs = [p.communicate(timeout=90) for p in procs]
    finally:
        meeting.met.set()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate(timeout=30)
    assert [p.returncode for p in procs] == [0, 0], outs
    assert meeting.most_inside == 2  # the two processes were probing at the same time
    probed = [len(json.loads(out)) for out, _ in outs]
    assert sum(probed) == 3 and len(chat_models(probing)) == 3
    assert min(probed) >= 1  # each process took part of the budget
    assert rows(probing.db, "select count(*) from probes") == [(3,)]


def test_the_key_never_reaches_output_logs_or_registry(cli, probing, tmp_path, caplog):
    leak = {
        "error": {
            "message": f"Provider returned error for key {KEY}",
            "code": 429,
            "metadata": {"raw": f"Bearer {KEY}", "limit_source": "upstream_provider_shared_pool"},
        }
    }
    probing.route(CHAT, reply(leak, status=429), Stream(["data: " + json.dumps({"error": {"message": f"boom {KEY}"}})]))
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "-v", "--format", "csv")
    assert out.code == 0
    sync = cli("sync", "--db", probing.db, "--api-url", probing.url, "--probe", "-v")
    assert sync.code == 0
    texts = out.out + out.err + sync.out + sync.err + caplog.text
    texts += (tmp_path / "generated" / "free-models.md").read_text()
    assert KEY not in texts
    stored = " ".join(
        str(r) for table in ("runs", "probes", "health_checks") for r in rows(probing.db, f"select * from {table}")
    )
    assert KEY not in stored and "***" in stored
    if not probing.db.startswith("postgresql"):
        assert KEY.encode() not in Path(probing.db).read_bytes()


def test_sync_probe_probes_after_the_sync_and_the_report_shows_it(cli, probing, tmp_path):
    probing.route(CHAT, reply(GUARDRAIL_404, status=404), completion_stream())
    out = cli("sync", "--db", probing.db, "--api-url", probing.url, "--probe", "--budget", "2")
    assert out.code == 0, out.err
    assert "probes: 1 blocked_by_account, 1 ok; 2 of 2 used today" in out.out
    page = (tmp_path / "generated" / "free-models.md").read_text()
    blocked = chat_models(probing)[0]
    assert f"| {'`' + blocked + '`'} | 🟢 up |" in page and "blocked\\_by\\_account" in page
    assert "https://openrouter.ai/settings/privacy" in page
    pools = json.loads((tmp_path / "generated" / "free-model-pool.json").read_text())["pools"]
    assert all(blocked not in ids for ids in pools.values())
    explain = cli("pools", "--db", probing.db, "--explain", "--format", "json").json()
    reasons = {d["reason"] for pool in explain["explain"].values() for d in pool if d["id"] == blocked}
    assert reasons and all(r.startswith("last probe blocked_by_account") for r in reasons), reasons


def test_sync_probe_without_a_key_still_syncs(cli, fake_api, monkeypatch):
    fake_api.serve(catalog_doc([model("a/b:free")]))
    out = cli("sync", "--api-url", fake_api.url, "--probe", "--no-render")
    assert out.code == 0 and "no probes: probes need OPENROUTER_API_KEY" in out.err


def test_probe_pool_names_are_checked_against_the_config(cli, probing, tmp_path):
    (tmp_path / "catalog.toml").write_text("[pools.TINY]\nmax_b = 8\n")
    out = cli(
        "probe", "--db", probing.db, "--api-url", probing.url, "--pool", "TINY", "--format", "json", "--no-render"
    )
    assert out.code == 0, out.err
    assert set(chat_models(probing)) == {"c/gamma-8b:free", "d/delta-8b:free"}
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "--pool", "HUGE")
    assert out.code == 1 and "--pool HUGE: no such pool" in out.err


# ---------------------------------------------------------------- guards, each with a test that fails without it


class StepClock:
    """A monotonic clock that moves `step` seconds at each reading: deadlines pass after a known
    number of readings, however fast or slow the machine is."""

    def __init__(self, step: float):
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_stream_that_keeps_trickling_past_the_deadline_is_a_timeout(fake_api, monkeypatch):
    """stream_outcome's deadline: keep-alives that never stop for long enough to trip the read
    timeout still end the probe at the deadline, as a timeout, not as the answer that follows."""
    import httpx

    from catalog.availability import probe

    keepalives = [b": OPENROUTER PROCESSING\n\n"] * 60
    answer = [(chunk("late") + "\n\n").encode(), (chunk(finish="stop") + "\n\n").encode(), b"data: [DONE]\n\n"]
    fake_api.route(CHAT, Trickle(keepalives + answer, pause=0.005, content_type="text/event-stream"))
    monkeypatch.setattr(probe, "monotonic", StepClock(1.0))  # one second per reading: 30 s is 30 lines
    with httpx.Client() as client:
        outcome = probe.probe_once(client, fake_api.url.rsplit("/api/", 1)[0] + CHAT, "a/b:free", timeout=30)
    assert (outcome.outcome, outcome.http_status, outcome.ttft_ms) == ("timeout", 200, None)
    assert outcome.detail == "the answer did not finish in time"
    # The same stream, read with time to spare, is an answer: the deadline made the difference.
    monkeypatch.setattr(probe, "monotonic", StepClock(0.001))
    with httpx.Client() as client:
        assert (
            probe.probe_once(client, fake_api.url.rsplit("/api/", 1)[0] + CHAT, "a/b:free", timeout=30).outcome == "ok"
        )


def test_reasoning_content_alone_is_a_first_token():
    """Some providers stream their thinking as `reasoning_content` (not `reasoning`) before any content."""
    thinking = "data: " + json.dumps(
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning_content": "Let me think"}}]}
    )
    ticks = iter([0.2, 0.5, 0.7, 0.8])
    result = stream_outcome([thinking, chunk(finish="length"), "data: [DONE]"], 0.0, 10.0, clock=lambda: next(ticks))
    assert (result.outcome, result.ttft_ms) == ("ok", 200.0)


def test_a_whole_json_completion_is_read_from_its_message(cli, probing):
    """A server that answers the completion at once (plain JSON, `choices[0].message`, no `delta`)."""
    whole = {
        "id": "gen-1",
        "object": "chat.completion",
        "model": "a/alpha-70b:free",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
    }
    probing.route(CHAT, reply(whole))
    out = cli("probe", "--db", probing.db, "--api-url", probing.url, "--budget", "1", "--format", "json", "--no-render")
    assert out.code == 0, out.err
    (result,) = out.json()
    assert (result["outcome"], result["http_status"]) == ("ok", 200), result
    empty = {
        **whole,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": ""}}],
    }
    assert json_outcome(empty, 0.0, 1.0).outcome == "error" and json_outcome(whole, 0.0, 1.0).outcome == "ok"


# A 404 naming the model as gone, with a routing step in its metadata (newer bodies carry one on most
# refusals): the model is gone, not a filter of this request.
GONE_WITH_STEP_404 = {
    "error": {
        "message": "No endpoints found for nex-agi/nex-n2.5-pro:free.",
        "code": 404,
        "metadata": {"failed_routing_step": "Initial Endpoints"},
    }
}
# A refusal by the account's settings told only by `ineligibility_reasons` (the values seen in
# shared/openrouter/chat-errors.md §3), with none of the known wordings and no guardrail step.
ACCOUNT_ZDR_404 = {
    "error": {
        "message": "0 endpoints out of 1 requested are available. We removed them for the "
        "following reasons:\nZDR violation (account settings): 1 endpoint excluded",
        "code": 404,
        "metadata": {
            "input_endpoint_count": 1,
            "ineligibility_reasons": [
                {
                    "reason": "paid-model-training-violation-by-account",
                    "endpoint_count": 1,
                    "configure_url": "https://openrouter.ai/settings/privacy",
                }
            ],
        },
    }
}


def test_no_endpoints_found_for_the_model_is_unavailable_even_with_a_routing_step():
    assert classify_error(404, GONE_WITH_STEP_404) == (
        "unavailable",
        "No endpoints found for nex-agi/nex-n2.5-pro:free.",
    )
    assert classify_error(404, TOOLS_404)[0] == "error"  # a step without that wording stays this request's


def test_ineligibility_reasons_alone_mean_the_account_s_settings():
    outcome, detail = classify_error(404, ACCOUNT_ZDR_404)
    assert outcome == "blocked_by_account" and "https://openrouter.ai/settings/privacy" in detail
