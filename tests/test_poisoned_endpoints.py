"""One model's odd `/endpoints` answer costs only that model: an answer nested past json's depth,
numbers no column can hold, endpoints that are not objects. The model is `unknown` (or the field is
dropped), never `down`, and every other model's sample is stored, on both engines."""

from __future__ import annotations

import json
import math

import pytest
from conftest import rows
from fakeapi import catalog_doc, endpoint, endpoints_doc, endpoints_path, model, reply

from catalog.availability.health import Sample, sample_from_answer
from catalog.registry import health_store
from catalog.registry.db import writer
from catalog.times import now_utc_seconds


def with_endpoints(*entries: object) -> dict:
    return {"data": {"id": "v/m:free", "endpoints": list(entries)}}


@pytest.mark.parametrize(
    "body, state",
    [
        (with_endpoints({"status": 1e30}), "unknown"),
        (with_endpoints({"status": -1e30}), "unknown"),
        (with_endpoints({"status": 10**30}), "unknown"),
        (with_endpoints({"status": 10**400}), "unknown"),  # an int no float can hold
        (with_endpoints({"status": math.inf}), "unknown"),
        (with_endpoints({"status": 2**31}), "unknown"),
        (with_endpoints("x", 1, None), "unknown"),
        (with_endpoints({"status": 0}, "x"), "unknown"),
        (with_endpoints({"status": 1e30}, {"status": -2}), "degraded"),  # the readable endpoint decides
        (with_endpoints({"status": -5}), "down"),
        (with_endpoints(), "down"),
    ],
)
def test_out_of_range_or_unreadable_is_unknown_never_down(body, state):
    assert sample_from_answer("v/m:free", body).state == state


def test_numbers_out_of_their_range_are_dropped():
    wild = endpoint(status=0, uptime_30m=1e300, uptime_5m=-3.0, uptime_1d=10**400)
    wild["latency_last_30m"] = {"p50": 1e308, "p90": -1}
    wild["throughput_last_30m"] = {"p50": math.nan}
    sample = sample_from_answer("v/m:free", endpoints_doc("v/m:free", wild))
    assert sample.state == "up" and sample.status == 0
    measured = (sample.uptime_5m, sample.uptime_30m, sample.uptime_1d, sample.latency_p50_ms, sample.latency_p90_ms)
    assert measured == (None, None, None, None, None) and sample.throughput_p50 is None
    fine = endpoint(status=-2, uptime_30m=90.0, latency={"p50": 850.0, "p90": 2000.0}, throughput={"p50": 40.0})
    sample = sample_from_answer("v/m:free", endpoints_doc("v/m:free", fine))
    assert (sample.uptime_30m, sample.latency_p50_ms, sample.latency_p90_ms, sample.throughput_p50) == (
        90.0,
        850.0,
        2000.0,
        40.0,
    )


GOOD = ["a/good-one:free", "b/good-two:free"]
POISONED = {
    "c/deep:free": reply(b"[" * 100_000, headers={"Content-Type": "application/json"}),
    "d/float-status:free": reply(b'{"data": {"endpoints": [{"status": 1e30, "provider_name": "P"}]}}'),
    "e/int-status:free": reply(b'{"data": {"endpoints": [{"status": 1000000000000000000000000000000}]}}'),
    "f/not-objects:free": reply(b'{"data": {"endpoints": ["x", 1, null]}}'),
    "g/huge-latency:free": reply(
        json.dumps(endpoints_doc("g/huge-latency:free", endpoint(latency={"p50": 1e300, "p90": 1e300}))).encode()
    ),
}


def test_a_sync_with_poisoned_answers_stores_every_model_s_sample(cli, fake_api, db_url):
    fake_api.serve(catalog_doc([model(m) for m in [*GOOD, *POISONED]]))
    for m in GOOD:
        fake_api.route(endpoints_path(m), endpoints_doc(m, endpoint()))
    for m, answer in POISONED.items():
        fake_api.route(endpoints_path(m), answer)
    out = cli("sync", "--db", db_url, "--api-url", fake_api.url, "--no-render")
    assert out.code == 0, out.err
    stored = {
        m: (state, status) for m, state, status in rows(db_url, "select model_id, state, status from health_checks")
    }
    assert stored == {
        "a/good-one:free": ("up", 0),
        "b/good-two:free": ("up", 0),
        "c/deep:free": ("unknown", None),
        "d/float-status:free": ("unknown", None),
        "e/int-status:free": ("unknown", None),
        "f/not-objects:free": ("unknown", None),
        "g/huge-latency:free": ("up", 0),
    }
    assert rows(db_url, "select latency_p50_ms from health_checks where model_id = 'g/huge-latency:free'") == [(None,)]
    assert rows(db_url, "select error from health_checks where model_id = 'c/deep:free'") == [
        ("the answer is not JSON",)
    ]


def test_a_call_failing_in_an_unforeseen_way_costs_only_its_model():
    import httpx

    from catalog.availability.healthcheck import sample_models

    def answer(request: httpx.Request) -> httpx.Response:
        if "broken" in request.url.path:
            raise RuntimeError("a failure nobody planned for")
        return httpx.Response(200, json=endpoints_doc("v/m:free", endpoint()))

    ids = ["a/fine:free", "b/broken:free", "c/fine:free"]
    samples = sample_models(ids, api_url="http://127.0.0.1:9/api/v1/models", transport=httpx.MockTransport(answer))
    assert [(s.model_id, s.state) for s in samples] == [
        ("a/fine:free", "up"),
        ("b/broken:free", "unknown"),
        ("c/fine:free", "up"),
    ]
    assert samples[1].error == "the answer could not be read (RuntimeError)"


def test_the_store_drops_what_its_columns_cannot_hold(db_url):
    """The last guard: samples made by anything, not only the classifier, never fail the insert."""
    wild = Sample("v/wild:free", "up", status=2**40, endpoints=10**12, uptime_30m=math.inf, latency_p50_ms=math.nan)
    fine = Sample("v/fine:free", "up", status=0, endpoints=1, uptime_30m=99.0)
    with writer(db_url, purpose="test") as engine, engine.begin() as conn:
        health_store.insert_samples(conn, [wild, fine], now_utc_seconds(), None)
    got = rows(db_url, "select model_id, status, endpoints, uptime_30m, latency_p50_ms from health_checks order by id")
    assert got == [("v/wild:free", None, None, None, None), ("v/fine:free", 0, 1, 99.0, None)]
