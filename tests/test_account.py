"""The account's own view: /models/user and /key read with the key after a sync (no chat call),
blocked models out of the pools, the `account` column of `health`, the requests left in `status`;
nothing asked without a key; a failing account call never fails the sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import rows
from fakeapi import Trickle, catalog_doc, error_reply, model, reply

KEY = "sk-or-v1-account-canary-0123456789abcdef"
USER_PATH = "/api/v1/models/user"
KEY_PATH = "/api/v1/key"
CHAT = "/api/v1/chat/completions"

FREE = ["a/alpha-70b:free", "b/beta-70b:free", "c/gamma-8b:free", "d/delta-8b:free", "e/eps-8b:free"]
BLOCKED = ["b/beta-70b:free", "d/delta-8b:free"]  # what /models/user leaves out
PAID = "p/paid-70b"


def user_models(ids: list[str]) -> dict:
    """/models/user's answer: the models list's shape, filtered to what the account may use."""
    return catalog_doc([model(m) for m in ids])


def key_answer(remaining: int | None = 37, limit: int | None = 50) -> dict:
    quota = {"used": (limit or 0) - (remaining or 0), "limit": limit, "remaining": remaining}
    return {"data": {"label": "sk-or-v1-abc...xyz", "is_free_tier": True, "free_model_daily_requests": quota}}


def serve_account(fake_api, user=None, key=None) -> None:
    fake_api.serve(catalog_doc([model(m) for m in FREE] + [model(PAID, prompt="0.000001", completion="0.000002")]))
    usable = [m for m in FREE if m not in BLOCKED] + [PAID]
    fake_api.route(USER_PATH, user if user is not None else user_models(usable))
    fake_api.route(KEY_PATH, key if key is not None else key_answer())


def sync(cli, fake_api, db, *extra):
    out = cli("sync", "--db", db, "--api-url", fake_api.url, "--no-health", *extra)
    assert out.code == 0, out.err
    return out


def account_column(cli, db) -> dict:
    out = cli("health", "--db", db, "--format", "json")
    assert out.code == 0, out.err
    return {r["model_id"]: r["account"] for r in out.json()}


def pool_ids(tmp_path: Path) -> set[str]:
    pools = json.loads((tmp_path / "generated" / "free-model-pool.json").read_text())["pools"]
    return {mid for ids in pools.values() for mid in ids}


def account_warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if "account view" in line]


# ---------------------------------------------------------------- with a key


def test_models_missing_from_models_user_are_blocked_and_leave_the_pools(cli, fake_api, tmp_path, monkeypatch, db_url):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    serve_account(fake_api)
    out = sync(cli, fake_api, db_url)
    assert "account: 2 of 5 free models blocked, 37 of 50 free requests left today" in out.out
    assert account_warnings(out.err) == []
    assert account_column(cli, db_url) == {m: "blocked" if m in BLOCKED else "usable" for m in FREE}
    pooled = pool_ids(tmp_path)
    assert pooled and not pooled & set(BLOCKED)
    assert "a/alpha-70b:free" in pooled and "c/gamma-8b:free" in pooled
    # Read with the key in the header, the whole list asked for; no chat call was made.
    for path in (USER_PATH, KEY_PATH):
        calls = fake_api.calls_to(path)
        assert len(calls) == 1 and calls[0]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert "output_modalities=all" in fake_api.calls_to(USER_PATH)[0]["path"]
    assert fake_api.calls_to("/chat/completions") == []
    explain = cli("pools", "--db", db_url, "--explain", "--format", "json").json()
    reasons = {d["reason"] for pool in explain["explain"].values() for d in pool if d["id"] == BLOCKED[0]}
    assert reasons and all(r.startswith("blocked for this account") for r in reasons), reasons
    page = (tmp_path / "generated" / "free-models.md").read_text()
    assert "https://openrouter.ai/settings/privacy" in page and f"`{BLOCKED[0]}`" in page
    feed = json.loads((tmp_path / "generated" / "free-models.json").read_text())
    statuses = {m["id"]: m["status"] for m in feed["models"]}
    assert {m for m, status in statuses.items() if status == "blocked"} == set(BLOCKED)


def test_status_shows_the_free_requests_left_and_when_they_were_read(cli, fake_api, monkeypatch, db_url):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    serve_account(fake_api, key=key_answer(remaining=12, limit=1000))
    sync(cli, fake_api, db_url, "--no-render")
    status = cli("status", "--db", db_url, "--format", "json").json()
    account = status["account"]
    assert (account["free_requests_left"], account["free_requests_limit"], account["blocked"]) == (12, 1000, 2)
    read_at = account["read_at"]
    assert read_at.endswith("Z")
    table = cli("status", "--db", db_url).out
    assert f"free requests    12 of 1000 left today (read {read_at})" in table
    assert "blocked          2 free models for this account" in table


def test_the_key_never_reaches_output_logs_or_registry(cli, fake_api, tmp_path, monkeypatch, caplog):
    """Error answers that quote the key back: the one warning line says what failed, key scrubbed."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    serve_account(fake_api, user=error_reply(503, f"upstream saw Bearer {KEY}"), key=error_reply(401, f"bad {KEY}"))
    out = sync(cli, fake_api, "catalog.db", "-v")
    assert KEY not in out.out + out.err + caplog.text
    [warning] = account_warnings(out.err)
    assert "/key: OpenRouter refused OPENROUTER_API_KEY (HTTP 401)" in warning
    assert "/models/user: HTTP 503: upstream saw Bearer ***" in warning
    stored = sorted(tmp_path.glob("catalog.db*"))
    assert stored and all(KEY.encode() not in path.read_bytes() for path in stored)


# ---------------------------------------------------------------- without a key


def test_without_a_key_nothing_is_asked_and_nothing_is_marked(cli, fake_api, tmp_path, db_url):
    serve_account(fake_api)
    out = sync(cli, fake_api, db_url)
    assert "account" not in out.out + out.err
    asked = [r["path"] for r in fake_api.requests + fake_api.calls]
    assert not [p for p in asked if "/models/user" in p or p.split("?")[0].endswith("/key")], asked
    assert set(account_column(cli, db_url).values()) == {None}
    assert set(BLOCKED) <= pool_ids(tmp_path)
    assert rows(db_url, "select count(*) from account_checks") == [(0,)]
    assert cli("status", "--db", db_url, "--format", "json").json()["account"] is None


def test_a_sync_from_a_file_asks_nothing_even_with_a_key(cli, fake_api, answer_file, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("CATALOG_API_URL", fake_api.url)  # where a wrong call would go: never OpenRouter
    serve_account(fake_api)
    out = cli("sync", "--from-file", answer_file(catalog_doc([model(m) for m in FREE])))
    assert out.code == 0 and "account" not in out.out + out.err
    assert fake_api.requests == [] and fake_api.calls == []


def test_a_later_sync_without_the_key_marks_nothing(cli, fake_api, tmp_path, monkeypatch, db_url):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    serve_account(fake_api)
    sync(cli, fake_api, db_url)
    monkeypatch.delenv("OPENROUTER_API_KEY")
    sync(cli, fake_api, db_url)
    assert set(account_column(cli, db_url).values()) == {None}
    assert set(BLOCKED) <= pool_ids(tmp_path)


# ---------------------------------------------------------------- failures never fail the sync


def trickled(doc: dict, pieces: int = 400) -> Trickle:
    """A valid answer sent so slowly (padding first) that only a whole-call deadline stops it."""
    return Trickle([b" " * 16] * pieces + [json.dumps(doc).encode()], pause=0.02)


FAILURES = {
    "500": error_reply(500, "Internal Server Error"),
    "garbage": reply("<html>bad gateway</html>"),
    "no list": reply({"data": {"models": []}}),
    "empty list": reply({"data": []}),
    "trickling": None,  # made per test: see trickled()
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failing_models_user_leaves_the_sync_ok_with_one_warning_and_nothing_marked(
    cli, fake_api, tmp_path, monkeypatch, db_url, failure
):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    usable = [m for m in FREE if m not in BLOCKED]
    answer = FAILURES[failure] or trickled(user_models(usable))
    serve_account(fake_api, user=answer)
    out = sync(cli, fake_api, db_url, "--timeout", "1")
    warnings = account_warnings(out.err)
    assert len(warnings) == 1 and "/models/user" in warnings[0], out.err
    assert set(account_column(cli, db_url).values()) == {None}
    assert set(BLOCKED) <= pool_ids(tmp_path)
    # What /key said is still kept.
    assert cli("status", "--db", db_url, "--format", "json").json()["account"]["free_requests_left"] == 37


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_models_user_answer_is_refused(cli, fake_api, monkeypatch, db_url, chunked):
    """A valid answer padded past --max-bytes, with or without a Content-Length."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    usable = [m for m in FREE if m not in BLOCKED]
    padded = json.dumps(user_models(usable)).encode() + b" " * 200_000
    serve_account(
        fake_api,
        user=Trickle([padded[i : i + 8192] for i in range(0, len(padded), 8192)], pause=0)
        if chunked
        else reply(padded),
    )
    out = sync(cli, fake_api, db_url, "--max-bytes", "100000", "--no-render")
    warnings = account_warnings(out.err)
    assert len(warnings) == 1 and "larger than 100,000 bytes" in warnings[0], out.err
    assert set(account_column(cli, db_url).values()) == {None}


# ---------------------------------------------------------------- the pure readers


def test_the_readers_take_what_the_api_documents_and_refuse_the_rest():
    from catalog.ingest.account import AccountError, FreeRequests, free_requests, usable_models

    assert usable_models({"data": [{"id": "a/b:free"}, {"id": ""}, {"no": "id"}, "x", {"id": 3}]}) == {"a/b:free"}
    for bad in ({"data": []}, {"data": None}, [], {"error": {"code": 500}}, {"data": [{"id": None}]}):
        with pytest.raises(AccountError):
            usable_models(bad)
    assert free_requests(key_answer(5, 50)) == FreeRequests(5, 50)
    quota = free_requests({"data": {"free_model_daily_requests": {"remaining": True, "limit": -1}}})
    assert (quota.remaining, quota.limit) == (None, None)
    assert free_requests({"data": {}}).remaining is None
    with pytest.raises(AccountError):
        free_requests({"data": []})


def test_a_reader_role_made_before_the_upgrade_reads_the_account_view(cli, fake_api, monkeypatch, pg_server, pg_url):
    """The account tables come with migration 0007; a reader role made for an older registry reads
    them (the writer's default privileges grant SELECT on the tables its upgrades add)."""
    from conftest import reader_of
    from sqlalchemy import create_engine

    from alembic import command
    from catalog.registry.db import url_of
    from catalog.registry.migrate import alembic_config

    engine = create_engine(url_of(pg_url))
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0005")
    engine.dispose()
    reader = reader_of(pg_server, pg_url)
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    serve_account(fake_api)
    sync(cli, fake_api, pg_url, "--no-render")
    assert account_column(cli, reader) == {m: "blocked" if m in BLOCKED else "usable" for m in FREE}
    assert cli("status", "--db", reader, "--format", "json").json()["account"]["free_requests_left"] == 37


def test_a_change_of_the_account_view_alone_rerenders_the_files(cli, fake_api, tmp_path, monkeypatch):
    """Same models answer, same health: only /models/user changed. The render-skip digest must see
    it, or the pool file would keep naming models the account cannot use."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    serve_account(fake_api, user=user_models(FREE))
    sync(cli, fake_api, "catalog.db")
    assert set(BLOCKED) <= pool_ids(tmp_path)
    fake_api.route(USER_PATH, user_models([m for m in FREE if m not in BLOCKED]))
    out = sync(cli, fake_api, "catalog.db")
    assert "account: 2 of 5 free models blocked" in out.out
    assert not pool_ids(tmp_path) & set(BLOCKED)


def test_a_model_with_health_samples_carries_its_account_view_too(cli, fake_api, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    serve_account(fake_api)  # no /endpoints routes: every sample is `unknown` (HTTP 404), but taken
    out = cli("sync", "--api-url", fake_api.url)
    assert out.code == 0 and "5 unknown (5 calls failed)" in out.out, out.err
    health = cli("health", "--format", "json").json()
    assert all(r["sampled_at"] for r in health)
    assert {r["model_id"]: r["account"] for r in health} == {m: "blocked" if m in BLOCKED else "usable" for m in FREE}
    assert not pool_ids(tmp_path) & set(BLOCKED)
