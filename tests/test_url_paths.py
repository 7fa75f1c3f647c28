"""Requests stay where they belong: a model id never takes a health check's request out of
`/api/v1/models/` (dot segments, empty segments, `?`, `#`, `%`, backslashes, control characters)."""

from __future__ import annotations

import pytest
from fakeapi import catalog_doc, endpoint, endpoints_doc, endpoints_path, model

from catalog.ingest.urls import endpoints_url, safe_model_id

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
