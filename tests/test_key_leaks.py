"""No 8-character run of a key reaches the registry, stdout, stderr or the log, wherever a server
quotes it: probes (error bodies, plain JSON and streamed answers), the models fetch, /endpoints."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from conftest import rows
from fakeapi import (
    Stream,
    catalog_doc,
    chunk,
    completion_stream,
    endpoint,
    endpoints_doc,
    endpoints_path,
    error_reply,
    model,
    reply,
)

from catalog.availability.health import sample_from_answer
from catalog.ingest.secrets import LogScrubber, clip, scrub

SHAPED = "sk-or-v1-" + "3f9c0a7e5b1d2c4f6a8e0b9d7c5a3e1f2b4d6c8a0e9f7b5d3c1a2e4f6b8d0c9a"
OTHER_SHAPED = "sk-or-v1-" + "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
UNSHAPED = "test-secret-4f1e9a7c2b8d6e30b7a1"  # a configured key of another shape: only known by value
OFFSETS = (0, 150, 180, 195, 199, 250)
CHAT = "/api/v1/chat/completions"
MODELS = ["a/alpha-70b:free", "b/beta-8b:free"]


def leaked(text: str, key: str) -> list[str]:
    """Every 8-character run of `key` found in `text`."""
    return [key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8] in text]


def quoting(key: str, offset: int) -> str:
    """A long message (well past any cut) with the key starting at `offset`."""
    return "x" * offset + key + " and then the provider said more" + "." * 300


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("key, configured", [(SHAPED, []), (UNSHAPED, [UNSHAPED]), (SHAPED, [SHAPED])])
def test_clip_scrubs_before_it_cuts(key, configured, offset):
    for limit in (160, 200, 210):
        assert leaked(clip(quoting(key, offset), limit, configured), key) == []


def test_scrub_takes_anything_shaped_like_a_key_and_every_configured_secret():
    text = f"a {OTHER_SHAPED}, b {UNSHAPED}, c sk-or-v1-0123456789ab"
    assert scrub(text, [UNSHAPED]) == "a ***, b ***, c ***"
    assert UNSHAPED in scrub(text)  # not shaped like a key: only scrubbed when it is known


def test_provider_names_are_scrubbed_and_cut():
    doc = endpoints_doc("v/m:free", endpoint(provider=quoting(OTHER_SHAPED, 180)), endpoint(provider=UNSHAPED))
    sample = sample_from_answer("v/m:free", doc, [UNSHAPED])
    assert all(len(p) <= 100 for p in sample.providers)
    assert leaked(" ".join(sample.providers), OTHER_SHAPED) == [] and UNSHAPED not in " ".join(sample.providers)


def test_the_log_scrubber_cleans_messages_tracebacks_and_fields(capsys):
    from catalog.commands.cliutil import setup_logging

    log = logging.getLogger("catalog.test")
    setup_logging(True, "json")
    log.warning("key %s", OTHER_SHAPED[:30], extra={"fields": {"url": OTHER_SHAPED}})
    setup_logging(True, "text")
    try:
        raise ValueError(f"boom {OTHER_SHAPED}")
    except ValueError:
        log.exception("failed with %s", OTHER_SHAPED)
    err = capsys.readouterr().err
    assert '"key ***"' in err and '"url": "***"' in err and "failed with ***" in err and "boom ***" in err
    assert leaked(err, OTHER_SHAPED) == []


def test_a_configured_secret_is_scrubbed_from_log_records():
    record = logging.LogRecord("catalog", logging.INFO, __file__, 1, "key is %s", (UNSHAPED,), None)
    LogScrubber([UNSHAPED]).filter(record)
    assert record.getMessage() == "key is ***"


# ---------------------------------------------------------------- end to end, through the CLI


def chat_answers(quoted: str) -> tuple[list[str], list]:
    """For each offset: an error body, a plain-JSON 200 with an error inside, a streamed error."""
    models, answers = [], []
    for offset in OFFSETS:
        message = quoting(quoted, offset)
        models += [f"e/err-{offset}:free", f"j/json-{offset}:free", f"s/stream-{offset}:free"]
        answers += [
            error_reply(429, message),
            reply({"choices": [{"message": {"content": ""}, "finish_reason": "error"}], "error": {"message": message}}),
            Stream([chunk("o"), "data: " + json.dumps({"error": {"code": 502, "message": message}})]),
        ]
    return models, answers


@pytest.mark.parametrize(
    "configured, quoted",
    [(SHAPED, SHAPED), (UNSHAPED, UNSHAPED), (UNSHAPED, OTHER_SHAPED)],
    ids=["the-key", "a-key-of-another-shape", "a-key-not-configured"],
)
def test_a_key_quoted_anywhere_in_a_probe_answer_never_leaks(cli, fake_api, monkeypatch, tmp_path, configured, quoted):
    monkeypatch.setenv("OPENROUTER_API_KEY", configured)
    db = str(tmp_path / "reg.db")
    fake_api.serve(catalog_doc([model(m) for m in MODELS]))
    for m in MODELS:
        fake_api.route(endpoints_path(m), endpoints_doc(m, endpoint()))
    fake_api.route("/api/v1/key", {"data": {"free_model_daily_requests": {"used": 0, "limit": 1000, "remaining": 999}}})
    assert cli("sync", "--db", db, "--api-url", fake_api.url, "--no-render").code == 0
    models, answers = chat_answers(quoted)
    fake_api.route(CHAT, *answers, completion_stream())
    args = ["probe", "--db", db, "--api-url", fake_api.url, "--budget", "50", "--reserve", "0", "-v"]
    for m in models:
        args += ["--model", m]
    table = cli(*args, "--format", "table")
    assert table.code == 0, table.err
    details = [d for (d,) in rows(db, "select detail from probe_results")]
    assert len(details) == len(models) and all(d and d.count("***") <= 1 for d in details), details
    shown = cli("health", "--db", db, "--format", "json")
    texts = table.out + table.err + shown.out + shown.err + " ".join(details)
    texts += Path(db).read_bytes().decode("utf-8", "replace")
    generated = list((tmp_path / "generated").iterdir())
    assert generated  # the probe rendered the report, which shows each probe's detail
    texts += "".join(path.read_text(errors="replace") for path in generated)
    assert leaked(texts, quoted) == []


def test_a_key_quoted_in_a_fetch_error_or_an_endpoints_answer_never_leaks(cli, fake_api, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENROUTER_API_KEY", UNSHAPED)
    db = str(tmp_path / "reg.db")
    fake_api.queue(error_reply(401, quoting(UNSHAPED, 180) + quoting(OTHER_SHAPED, 0)))
    failed = cli("sync", "--db", db, "--api-url", fake_api.url, "-v")
    assert failed.code != 0 and "***" in failed.err
    fake_api.serve(catalog_doc([model(m) for m in MODELS]))
    fake_api.route(endpoints_path(MODELS[0]), endpoints_doc(MODELS[0], endpoint(provider=quoting(OTHER_SHAPED, 95))))
    fake_api.route(endpoints_path(MODELS[1]), endpoints_doc(MODELS[1], endpoint(provider=quoting(UNSHAPED, 90))))
    synced = cli("sync", "--db", db, "--api-url", fake_api.url, "-v")
    assert synced.code == 0, synced.err
    shown = cli("health", "--db", db, "--format", "json")
    texts = failed.out + failed.err + synced.out + synced.err + shown.out + shown.err
    texts += Path(db).read_bytes().decode("utf-8", "replace")
    for generated in (tmp_path / "generated").iterdir():
        texts += generated.read_text(errors="replace")
    assert leaked(texts, UNSHAPED) == [] and leaked(texts, OTHER_SHAPED) == []
    assert rows(db, "select count(*) from health_checks") == [(2,)]
