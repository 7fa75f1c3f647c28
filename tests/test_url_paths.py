"""Requests stay where they belong: a model id never takes a health check's request out of
`/api/v1/models/` (dot segments, empty segments, `?`, `#`, `%`, backslashes, control characters),
and `--api-url` may name the API's base instead of its models URL."""

from __future__ import annotations

import json

import pytest
from fakeapi import catalog_doc, endpoint, endpoints_doc, endpoints_path, model

from catalog.ingest.urls import api_base, endpoints_url, models_base, models_url, safe_model_id

API = "https://openrouter.ai/api/v1/models?output_modalities=all"
UNSAFE_IDS = [
    "evil/../../etc/passwd:free",
    "evil/..",
    "../x:free",
    "./x:free",
    "evil/./x:free",
    "evil//x:free",
    "/evil/x:free",
    "evil/x:free/",
    "evil/x?y=1:free",
    "evil/x#frag:free",
    "evil/%2e%2e/%2E%2E/key:free",
    "evil/x%2Fy:free",
    "evil\\..\\..\\key:free",
    "evil/new\nline:free",
    "evil/tab\tx:free",
    "evil/nul\x00:free",
    "evil/esc\x1b[2J:free",
    "evil/del\x7f:free",
    "",
]
SAFE_IDS = ["google/gemma-3-27b-it:free", "a/b.c-1.5:free", "x/..y:free", "x/y..:free", "no-vendor:free", "v/a b:free"]


@pytest.mark.parametrize("model_id", UNSAFE_IDS)
def test_an_id_that_could_leave_models_gets_no_url(model_id):
    assert not safe_model_id(model_id)
    assert endpoints_url(API, model_id) is None


@pytest.mark.parametrize("model_id", SAFE_IDS)
def test_ordinary_ids_keep_their_slash_and_colon(model_id):
    url = endpoints_url(API, model_id)
    assert url is not None and url.startswith("https://openrouter.ai/api/v1/models/") and url.endswith("/endpoints")
    assert "?" not in url
    if " " not in model_id:
        assert url == f"https://openrouter.ai/api/v1/models/{model_id}/endpoints"


def test_the_health_check_never_asks_outside_models_and_samples_the_others(cli, fake_api, tmp_path):
    good = ["a/good:free", "b/also.good:free"]
    fake_api.serve(catalog_doc([model(i) for i in [*good, *UNSAFE_IDS[:12]] if i]))
    for model_id in good:
        fake_api.route(endpoints_path(model_id), endpoints_doc(model_id, endpoint()))
    result = cli("sync", "--db", tmp_path / "reg.db", "--api-url", fake_api.url, "--no-render")
    assert result.code == 0, result.err
    asked = sorted(call["path"] for call in fake_api.calls)
    assert asked == sorted(endpoints_path(m) for m in good)  # the two good ones, nothing else
    assert all(call["path"].startswith("/api/v1/models/") for call in fake_api.calls)
    assert "skipped the health check of 'evil/../../etc/passwd:free'" in result.err
    health = {row["model_id"]: row for row in cli("health", "--db", tmp_path / "reg.db", "--format", "json").json()}
    assert {health[m]["state"] for m in good} == {"up"}
    assert health["evil/../../etc/passwd:free"]["state"] == "unknown"


@pytest.mark.parametrize(
    ("given", "models"),
    [
        ("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1/models"),
        ("https://openrouter.ai/api/v1/", "https://openrouter.ai/api/v1/models"),
        (
            "http://127.0.0.1:8080/api/v1?output_modalities=all",
            "http://127.0.0.1:8080/api/v1/models?output_modalities=all",
        ),
        ("http://proxy.example/openrouter/v2", "http://proxy.example/openrouter/v2/models"),
        ("http://proxy.example", "http://proxy.example"),  # no guess: a host's root is not an API base
        ("http://proxy.example/", "http://proxy.example/"),
        (API, API),  # the models URL stays as given
        ("https://openrouter.ai/api/v1/models/", "https://openrouter.ai/api/v1/models/"),
        ("http://mirror.example/saved/models.json", "http://mirror.example/saved/models.json"),
    ],
)
def test_the_api_base_means_its_models_url(given, models):
    assert models_url(given) == models
    assert models_base(given) == models.split("?")[0].rstrip("/")
    assert api_base("https://openrouter.ai/api/v1") == api_base(API) == "https://openrouter.ai/api/v1"


def test_a_sync_given_the_api_base_fetches_its_models_and_checks_health_under_it(cli, fake_api, tmp_path):
    fake_api.serve(catalog_doc([model("a/good:free")]))
    fake_api.route(endpoints_path("a/good:free"), endpoints_doc("a/good:free", endpoint()))
    result = cli("sync", "--db", tmp_path / "reg.db", "--api-url", fake_api.base + "/api/v1", "--no-render")
    assert result.code == 0, result.err
    assert [r["path"] for r in fake_api.requests] == ["/api/v1/models"]
    assert [c["path"] for c in fake_api.calls] == [endpoints_path("a/good:free")]
    status = cli("status", "--db", tmp_path / "reg.db", "--format", "json").json()
    assert fake_api.url in json.dumps(status)  # the source is recorded as the models URL
