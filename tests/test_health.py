"""Passive health: /endpoints of every free model after a sync, stored as history, shown honestly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import ENDPOINTS, rows
from fakeapi import Trickle, catalog_doc, endpoint, endpoints_doc, endpoints_path, error_reply, hang, model, reply

from catalog.availability.health import sample_from_answer

KEY = "sk-or-v1-health-canary-0123456789abcdef"

MODELS = [
    "a/up:free",
    "b/degraded:free",
    "c/down:free",
    "d/two:free",
    "e/empty:free",
    "f/broken:free",
    "g/notjson:free",
    "h/nulls:free",
    "openrouter/free",
]


def serve_health(fake_api, *, hang_id: str | None = None) -> None:
    fake_api.serve(catalog_doc([model(m) for m in MODELS]))
    answers = {
        "a/up:free": endpoints_doc(
            "a/up:free",
            endpoint(
                "Alpha",
                status=0,
                uptime_30m=99.8,
                uptime_1d=99.1,
                latency={"p50": 812, "p75": 900, "p90": 1500, "p99": 3000},
                throughput={"p50": 41.5, "p90": 80},
            ),
        ),
        "b/degraded:free": endpoints_doc("b/degraded:free", endpoint("Beta", status=-2, uptime_30m=88.0)),
        "c/down:free": endpoints_doc("c/down:free", endpoint("Gamma", status=-5, uptime_30m=40.0)),
        "d/two:free": endpoints_doc(
            "d/two:free",
            endpoint("Slow", status=-5, uptime_30m=10.0),
            endpoint("Fast", status=0, uptime_30m=97.0, uptime_1d=98.0),
        ),
        "e/empty:free": endpoints_doc("e/empty:free"),
        "f/broken:free": error_reply(500, "Internal Server Error"),
        "g/notjson:free": reply("<html>bad gateway</html>"),
        "h/nulls:free": endpoints_doc(
            "h/nulls:free", endpoint("Nulls", status=0, uptime_30m=None, uptime_5m=None, uptime_1d=None)
        ),
    }
    for model_id, answer in answers.items():
        fake_api.route(endpoints_path(model_id), hang() if model_id == hang_id else answer)


def health_rows(cli, db="catalog.db"):
    out = cli("health", "--db", db, "--format", "json")
    assert out.code == 0, out.err
    return {r["model_id"]: r for r in out.json()}


def test_a_sync_samples_every_free_model_and_classifies_each_answer(cli, fake_api, db_url):
    serve_health(fake_api)
    out = cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render")
    assert out.code == 0, out.err
    assert "health: 3 up, 1 degraded, 2 down, 3 unknown (2 calls failed)" in out.out
    # One call per model, routers excepted: openrouter/free lists no endpoints of its own.
    asked = sorted(c["path"] for c in fake_api.calls_to("/endpoints"))
    assert asked == sorted(endpoints_path(m) for m in MODELS if m != "openrouter/free")
    h = health_rows(cli, db_url)
    assert {m: r["state"] for m, r in h.items()} == {
        "a/up:free": "up",
        "b/degraded:free": "degraded",
        "c/down:free": "down",
        "d/two:free": "up",
        "e/empty:free": "down",
        "f/broken:free": "unknown",
        "g/notjson:free": "unknown",
        "h/nulls:free": "up",
        "openrouter/free": "unknown",
    }
    up = h["a/up:free"]
    assert (up["status"], up["endpoints"], up["providers"], up["uptime_30m"], up["uptime_1d"]) == (
        0,
        1,
        ["Alpha"],
        99.8,
        99.1,
    )
    assert (up["latency_p50_ms"], up["latency_p90_ms"], up["throughput_p50"]) == (812, 1500, 41.5)
    two = h["d/two:free"]  # the best endpoint speaks for the model: the one a request would reach
    assert (two["endpoints"], two["providers"], two["status"], two["uptime_30m"]) == (2, ["Fast", "Slow"], 0, 97.0)
    assert h["e/empty:free"]["endpoints"] == 0
    assert h["h/nulls:free"]["uptime_30m"] is None and h["h/nulls:free"]["uptime_1d"] is None
    assert h["f/broken:free"]["endpoints"] is None  # unknown: nothing guessed
    samples = cli("health", "--db", db_url, "f/broken:free", "--format", "json").json()
    assert [s["error"] for s in samples] == ["HTTP 500"]


def test_the_health_timeout_bounds_a_hanging_server_and_keeps_the_others(cli, fake_api):
    # The timeout is the one batch's deadline: generous, so that the seven quick answers meet it
    # on a loaded machine; the hanging call is what it bounds (the sync returns, nothing waits on).
    serve_health(fake_api, hang_id="c/down:free")
    started = time.monotonic()
    out = cli("sync", "--api-url", fake_api.url, "--no-render", "--health-timeout", "5")
    assert out.code == 0, out.err
    assert time.monotonic() - started < 60  # bounded by the timeout, not by the hanging server
    h = health_rows(cli)
    assert h["c/down:free"]["state"] == "unknown"
    assert {m: r["state"] for m, r in h.items() if m != "c/down:free"} == {
        "a/up:free": "up",
        "b/degraded:free": "degraded",
        "d/two:free": "up",
        "e/empty:free": "down",
        "f/broken:free": "unknown",
        "g/notjson:free": "unknown",
        "h/nulls:free": "up",
        "openrouter/free": "unknown",
    }
    samples = cli("health", "c/down:free", "--format", "json").json()
    assert "health timeout" in samples[0]["error"]


def test_health_never_fails_the_sync_and_no_health_skips_it(cli, fake_api, tmp_path, db_url):
    fake_api.serve(catalog_doc([model("a/b:free")]))  # no routes: every /endpoints answers 404
    out = cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render")
    assert out.code == 0 and "0 up, 0 degraded, 0 down, 1 unknown (1 call failed)" in out.out
    calls = len(fake_api.calls)
    out = cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render", "--no-health")
    assert out.code == 0 and "health" not in out.out and len(fake_api.calls) == calls
    assert rows(db_url, "select count(*) from health_checks") == [(1,)]


def test_a_sync_from_a_file_has_no_health(cli, fake_api, answer_file):
    out = cli("sync", "--from-file", answer_file(catalog_doc([model("a/b:free")])), "--no-render")
    assert out.code == 0 and "health" not in out.out
    assert health_rows(cli)["a/b:free"]["state"] == "unknown"  # never sampled is unknown, not up


def test_health_refresh_samples_without_a_sync_and_rerenders(cli, fake_api, tmp_path, db_url):
    serve_health(fake_api)
    assert cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-health").code == 0
    before = (tmp_path / "generated" / "free-models.md").read_text()
    assert "Nothing is measured yet" in before
    out = cli("health", "--db", db_url, "--refresh", "--api-url", fake_api.url)
    assert out.code == 0, out.err
    assert out.out.startswith("health: 3 up, 1 degraded, 2 down, 3 unknown")
    assert rows(db_url, "select count(*), min(run_id) from health_checks") == [(len(MODELS), None)]
    assert rows(db_url, "select count(*) from runs") == [(1,)]  # no catalog sync
    after = (tmp_path / "generated" / "free-models.md").read_text()
    assert "| `a/up:free` | 🟢 up | 99.1% | — | 812 ms | 42 tok/s | — |" in after
    assert "| `c/down:free` | 🔴 down |" in after


def test_health_refresh_takes_the_sync_lock(cli, fake_api, tmp_path):
    from catalog.registry.lock import registry_lock

    serve_health(fake_api)
    assert cli("sync", "--api-url", fake_api.url, "--no-health", "--no-render").code == 0
    with registry_lock(str(tmp_path / "catalog.db")):
        out = cli("health", "--refresh", "--api-url", fake_api.url)
    assert out.code == 75 and "another sync is running" in out.err


def test_old_samples_are_pruned_after_health_keep(cli, fake_api, tmp_path):
    serve_health(fake_api)
    assert cli("sync", "--api-url", fake_api.url, "--no-render").code == 0
    db = tmp_path / "catalog.db"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("update health_checks set sampled_at = '2020-01-01T00:00:00Z'")
    assert cli("health", "--refresh", "--api-url", fake_api.url, "--no-render", "--health-keep", "30d").code == 0
    assert rows(db, "select count(*), min(sampled_at) > '2020-01-02' from health_checks") == [(len(MODELS), 1)]


def test_seven_day_availability_needs_enough_samples(cli, fake_api, tmp_path, db_url):
    from catalog.registry.health_reads import MIN_KNOWN_SAMPLES

    fake_api.serve(catalog_doc([model("a/b:free")]))
    up = endpoints_doc("a/b:free", endpoint(status=0))
    down = endpoints_doc("a/b:free", endpoint(status=-5, uptime_30m=20.0))
    fake_api.route(endpoints_path("a/b:free"), up)
    assert cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render").code == 0
    for _ in range(MIN_KNOWN_SAMPLES - 2):
        assert cli("health", "--db", db_url, "--refresh", "--api-url", fake_api.url, "--no-render").code == 0
    assert health_rows(cli, db_url)["a/b:free"]["availability_7d"] is None  # 11 samples: too few to say
    fake_api.route(endpoints_path("a/b:free"), down)
    assert cli("health", "--db", db_url, "--refresh", "--api-url", fake_api.url, "--no-render").code == 0
    row = health_rows(cli, db_url)["a/b:free"]
    assert row["state"] == "down" and row["availability_7d"] == round(11 / 12, 4)
    models = cli("models", "--db", db_url, "--format", "json").json()
    assert (models[0]["health"], models[0]["availability_7d"]) == ("down", round(11 / 12, 4))


def test_the_key_is_sent_for_health_and_never_stored_or_shown(cli, fake_api, tmp_path, monkeypatch, caplog):
    """Answers that echo the key back (in the JSON that is read and stored, in a body that is not
    JSON, in an error): the key is sent, and appears nowhere in the output, the log or the registry."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    fake_api.serve(catalog_doc([model("a/echo:free"), model("b/notjson:free"), model("c/refused:free")]))
    echo = endpoint("Echo", status=-2, uptime_30m=90.0, model_id="a/echo:free")
    echo.update({"name": f"Echo | Bearer {KEY}", "model_name": KEY, "tag": KEY, "quantization": KEY})
    fake_api.route(endpoints_path("a/echo:free"), endpoints_doc("a/echo:free", echo))
    fake_api.route(endpoints_path("b/notjson:free"), reply(f"<html>Authorization: Bearer {KEY}</html>"))
    fake_api.route(endpoints_path("c/refused:free"), error_reply(401, f"bad key {KEY}"))
    out = cli("sync", "--api-url", fake_api.url, "-v")
    assert out.code == 0, out.err
    calls = fake_api.calls_to("/endpoints")
    assert len(calls) == 3 and all(c["headers"]["Authorization"] == f"Bearer {KEY}" for c in calls)
    h = health_rows(cli)
    # The bodies were read: the echoing one as what it says (degraded, 90%), the other as not JSON.
    assert (h["a/echo:free"]["state"], h["a/echo:free"]["uptime_30m"], h["a/echo:free"]["providers"]) == (
        "degraded",
        90.0,
        ["Echo"],
    )
    samples = {m: cli("health", m, "--format", "json").json()[0]["error"] for m in ("b/notjson:free", "c/refused:free")}
    assert samples == {"b/notjson:free": "the answer is not JSON", "c/refused:free": "HTTP 401"}
    shown = out.out + out.err + caplog.text + cli("health", "--format", "json").out
    assert KEY not in shown
    stored = sorted(tmp_path.glob("catalog.db*"))  # the database and its write-ahead log, if any
    assert stored and all(KEY.encode() not in path.read_bytes() for path in stored)
    assert b"Echo" in b"".join(path.read_bytes() for path in stored)  # what was read was stored there


def test_health_queries_explain_unknown_ids_and_refuse_odd_flags(cli, fake_api):
    serve_health(fake_api)
    assert cli("sync", "--api-url", fake_api.url, "--no-render").code == 0
    out = cli("health", "no/such:free")
    assert out.code == 1 and "never free in this registry" in out.err
    out = cli("health", "--since", "2026-01-01")
    assert out.code == 2 and "--since goes with MODEL_ID" in out.err
    out = cli("health", "a/up:free", "--refresh")
    assert out.code == 2 and "takes no MODEL_ID" in out.err


def test_views_expose_health(cli, fake_api, tmp_path, db_url):
    serve_health(fake_api)
    assert cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render").code == 0
    db = db_url
    assert rows(db, "select state from model_health_now where model_id = 'c/down:free'") == [("down",)]
    assert rows(db, "select count(*) from health_samples") == [(len(MODELS),)]
    assert rows(db, "select count(*) from probe_results") == [(0,)]


# ---------------------------------------------------------------- the pure classifier, on real bodies


def real_endpoints() -> list[Path]:
    files = sorted(ENDPOINTS.glob("*.json"))
    assert len(files) == 6, f"real /endpoints bodies missing from {ENDPOINTS}"
    return files


def test_real_endpoints_bodies_classify_as_their_status_says():
    for path in real_endpoints():
        doc = json.loads(path.read_text())
        model_id = doc["data"]["id"]
        sample = sample_from_answer(model_id, doc)
        endpoints = doc["data"]["endpoints"]
        if model_id.startswith("openrouter/"):
            assert sample.state == "unknown", path.name  # a router, not an outage
            continue
        best = max(e["status"] for e in endpoints)
        expected = "up" if best == 0 else "down" if best <= -5 else "degraded"
        assert (sample.state, sample.status, sample.endpoints) == (expected, best, len(endpoints)), path.name
        assert sample.latency_p50_ms is None  # keyless captures carry no latency


@pytest.mark.parametrize(
    "body, state",
    [
        ({"data": {"endpoints": [{"status": 0}]}}, "up"),
        ({"data": {"endpoints": [{"status": -2}]}}, "degraded"),
        ({"data": {"endpoints": [{"status": -3}]}}, "degraded"),
        ({"data": {"endpoints": [{"status": -5}]}}, "down"),
        ({"data": {"endpoints": [{"status": -10}]}}, "down"),
        ({"data": {"endpoints": []}}, "down"),
        ({"data": {"endpoints": [{"status": None}]}}, "unknown"),
        ({"data": {"endpoints": [{"status": "0"}]}}, "unknown"),
        ({"data": {}}, "unknown"),
        ({"error": {"code": 404, "message": "not found"}}, "unknown"),
        ([], "unknown"),
    ],
)
def test_state_rules(body, state):
    assert sample_from_answer("v/m:free", body).state == state


def test_status_counts_health_states_and_probes_today(cli, fake_api, tmp_path, db_url):
    serve_health(fake_api)
    assert cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render").code == 0
    status = cli("status", "--db", db_url, "--format", "json").json()
    assert status["health"] == {"up": 3, "degraded": 1, "down": 2, "unknown": 3}
    assert status["probes_today"] == 0
    table = cli("status", "--db", db_url).out
    assert "health           3 up, 1 degraded, 2 down, 3 unknown" in table.replace("\x1b", "")


# ---------------------------------------------------------------- guards, each with a test that fails without it


class StepClock:
    """A monotonic clock that moves `step` seconds at each reading: a deadline passes after a
    known number of readings, however fast or slow the machine is."""

    def __init__(self, step: float):
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def trickled_endpoints(model_id: str, pieces: int = 80) -> list[bytes]:
    """A valid, good /endpoints answer cut into many small chunks (padding first)."""
    body = json.dumps(endpoints_doc(model_id, endpoint("Alpha", status=0, uptime_30m=99.0))).encode()
    return [b" " * 16] * pieces + [body]


def test_an_answer_still_trickling_at_the_deadline_is_unknown(fake_api, monkeypatch):
    """healthcheck._read's deadline: chunks that keep coming (no read ever times out) are cut off
    at the batch deadline, and the sample says so; the same answer read in time is `up`."""
    from catalog.availability import healthcheck

    fake_api.route(endpoints_path("a/slow:free"), Trickle(trickled_endpoints("a/slow:free"), pause=0.01))
    monkeypatch.setattr(healthcheck, "monotonic", StepClock(5.0))  # 30 s are six readings
    (sample,) = healthcheck.sample_models(["a/slow:free"], api_url=fake_api.url, timeout=30)
    assert (sample.state, sample.error) == ("unknown", "the answer did not finish within the health timeout")
    monkeypatch.setattr(healthcheck, "monotonic", StepClock(0.0001))
    (sample,) = healthcheck.sample_models(["a/slow:free"], api_url=fake_api.url, timeout=30)
    assert (sample.state, sample.uptime_30m) == ("up", 99.0)


def test_an_answer_larger_than_the_limit_is_unknown_however_valid():
    """healthcheck._read's size limit: a valid answer padded past MAX_BODY is not read whole."""
    import httpx

    from catalog.availability.healthcheck import MAX_BODY, sample_models

    body = json.dumps(endpoints_doc("a/big:free", endpoint("Alpha", status=0, uptime_30m=99.0))).encode()
    padded = b" " * (MAX_BODY + 1) + body
    small = b" " * (MAX_BODY - len(body) - 1) + body

    def answer(request):
        return httpx.Response(200, content=padded if "big" in str(request.url) else small)

    big, fits = sample_models(
        ["a/big:free", "a/fits:free"], api_url="http://api.test/api/v1/models", transport=httpx.MockTransport(answer)
    )
    assert (big.state, big.error) == ("unknown", f"the answer is larger than {MAX_BODY} bytes")
    assert (fits.state, fits.uptime_30m) == ("up", 99.0)  # up to the limit, a body is read


def test_among_endpoints_of_one_status_the_highest_uptime_speaks_for_the_model():
    """_rank's uptime tie-break: the endpoint a request would reach first is the most reliable one,
    wherever it is in the list (a worse day's uptime does not outrank a better recent one)."""
    shaky = endpoint("Shaky", status=0, uptime_30m=95.5, uptime_1d=99.9)
    steady = endpoint("Steady", status=0, uptime_30m=99.8, uptime_1d=97.0)
    for order in ((shaky, steady), (steady, shaky)):
        sample = sample_from_answer("v/m:free", endpoints_doc("v/m:free", *order))
        assert (sample.state, sample.uptime_30m, sample.uptime_1d) == ("up", 99.8, 97.0)


def test_among_equally_reliable_endpoints_the_fastest_speaks_for_the_model():
    """_rank's latency tie-break (latency is there with a key): same status and uptimes, the lower
    p50 time to first token wins, wherever it is in the list."""
    slow = endpoint("Slow", status=0, uptime_30m=99.0, uptime_1d=99.0, latency={"p50": 3000, "p90": 9000})
    fast = endpoint("Fast", status=0, uptime_30m=99.0, uptime_1d=99.0, latency={"p50": 800, "p90": 1500})
    for order in ((slow, fast), (fast, slow)):
        sample = sample_from_answer("v/m:free", endpoints_doc("v/m:free", *order))
        assert (sample.latency_p50_ms, sample.latency_p90_ms) == (800, 1500)
