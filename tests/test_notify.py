"""Notifications through the outbox, against a real HTTP receiver on 127.0.0.1 (tests/receiver.py):
a digest per sync with matching changes and none without, retries after a failure delivered once,
a verifiable signature, a hanging receiver bounded by its timeout, Apprise to a local json://."""

import hashlib
import hmac
import json
import sys
import time
from pathlib import Path

import pytest
from conftest import rows
from fakeapi import model
from receiver import HANG, receiver, sync_answer  # noqa: F401  (the fixture)

from catalog.errors import MassRemovalError

BASE = [model("google/gemma-3-27b-it:free"), model("qwen/qwen3-coder:free", context_length=262144)]
NEW = model("mistralai/devstral-2512:free")


REG = ""  # the registry of the running test, on each engine in turn (see `registry`)


@pytest.fixture(autouse=True)
def registry(db_url, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "REG", db_url)


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(body)
    return path


def webhook(url: str, **extra: str) -> str:
    lines = "".join(f"{key} = {value}\n" for key, value in extra.items())
    return f'[[notify.webhook]]\nurl = "{url}"\n{lines}'


def sync(tmp_path, cfg, models, when):
    return sync_answer(tmp_path, REG, cfg, models, when)


def outbox(tmp_path):
    return rows(REG, "SELECT kind, run_id, status, attempts, last_error FROM notifications ORDER BY id")


def test_a_digest_per_sync_with_changes_and_none_without(tmp_path, receiver, cli):
    cfg = config(tmp_path, webhook(receiver.url))
    sync(tmp_path, cfg, BASE, 1)
    assert receiver.received == []  # the first sync is a baseline
    result = sync(tmp_path, cfg, [*BASE, NEW], 2)
    assert len(receiver.received) == 1 and [d.error for d in result.deliveries] == [None]
    doc = json.loads(receiver.received[0].body)
    assert doc["schema"] == "catalog.notify/1" and doc["kind"] == "digest"
    assert (doc["run_id"], doc["observed_at"], doc["free_count"]) == (2, "2026-01-02T00:00:00Z", 3)
    assert doc["source"].startswith("file:")
    changes = cli("changes", "--db", REG, "--format", "json").json()
    assert doc["events"] == [e for e in changes if e["run_id"] == 2]
    assert receiver.received[0].path == "/hooks/secret-path-123"
    sync(tmp_path, cfg, [*BASE, NEW], 3)  # same answer: no events, nothing sent
    sync(tmp_path, cfg, [*BASE, NEW, model("openai/gpt-4o", prompt="0.1", completion="0.1")], 4)  # a paid model only
    assert len(receiver.received) == 1
    assert outbox(tmp_path) == [("digest", 2, "delivered", 1, None)]


def test_a_target_gets_only_the_kinds_it_asked_for(tmp_path, receiver):
    cfg = config(tmp_path, webhook(receiver.url, events='["removed"]'))
    sync(tmp_path, cfg, BASE, 1)
    sync(tmp_path, cfg, [*BASE, NEW], 2)  # added only
    assert receiver.received == []
    sync(tmp_path, cfg, [BASE[0], NEW], 3)
    (got,) = receiver.received
    assert [(e["kind"], e["model_id"], e["reason"]) for e in json.loads(got.body)["events"]] == [
        ("removed", "qwen/qwen3-coder:free", "delisted")
    ]


def test_a_failed_delivery_is_retried_on_the_next_sync_and_delivered_once(tmp_path, receiver, cli):
    cfg = config(tmp_path, webhook(receiver.url))
    sync(tmp_path, cfg, BASE, 1)
    receiver.script.extend([500])
    failed = sync(tmp_path, cfg, [*BASE, NEW], 2)
    assert failed.run_id == 2 and failed.deliveries[0].error == "HTTP 500 Internal Server Error"
    assert outbox(tmp_path) == [("digest", 2, "pending", 1, "HTTP 500 Internal Server Error")]
    status = cli("status", "--db", REG, "--format", "json").json()["notifications"]
    assert (status["pending"], status["failing"], status["last_error"]["error"]) == (
        1,
        1,
        "HTTP 500 Internal Server Error",
    )
    pending = cli("notify", "--pending", "--db", REG, "--config", cfg, "--format", "json")
    assert pending.code == 0 and [(p["run_id"], p["attempts"]) for p in pending.json()] == [(2, 1)]
    assert "secret-path-123" not in pending.out and "http://127.0.0.1/…" in pending.out
    sync(tmp_path, cfg, [*BASE, NEW], 3)  # nothing new, but the pending digest goes out
    sync(tmp_path, cfg, [*BASE, NEW], 4)
    assert len(receiver.received) == 2 and receiver.received[0].body == receiver.received[1].body
    assert receiver.received[0].headers["x-catalog-delivery"] == receiver.received[1].headers["x-catalog-delivery"]
    assert outbox(tmp_path) == [("digest", 2, "delivered", 2, None)]
    assert cli("notify", "--pending", "--db", REG, "--format", "json").json() == []


def test_the_signature_verifies_with_the_secret(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", "s3cr3t-value")
    cfg = config(tmp_path, webhook(receiver.url, secret_env='"HOOK_SECRET"'))
    sync(tmp_path, cfg, BASE, 1)
    sync(tmp_path, cfg, [*BASE, NEW], 2)
    (got,) = receiver.received
    expected = hmac.new(b"s3cr3t-value", got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-catalog-signature"] == f"sha256={expected}"
    assert hmac.new(b"wrong", got.body, hashlib.sha256).hexdigest() != expected
    stored = " ".join(str(r) for table in ("notifications", "runs") for r in rows(REG, f"SELECT * FROM {table}"))
    assert "s3cr3t-value" not in stored
    if not REG.startswith("postgresql"):
        assert b"s3cr3t-value" not in Path(REG).read_bytes()


def test_a_missing_secret_keeps_the_digest_pending(tmp_path, receiver):
    cfg = config(tmp_path, webhook(receiver.url, secret_env='"UNSET_SECRET_VAR"'))
    sync(tmp_path, cfg, BASE, 1)
    result = sync(tmp_path, cfg, [*BASE, NEW], 2)
    assert receiver.received == [] and "UNSET_SECRET_VAR" in result.deliveries[0].error
    assert outbox(tmp_path)[0][2] == "pending"


def test_a_hanging_receiver_does_not_hold_the_sync_past_its_timeout(tmp_path, receiver):
    cfg = config(tmp_path, webhook(receiver.url, timeout="0.5"))
    sync(tmp_path, cfg, BASE, 1)
    receiver.script.extend([HANG])
    started = time.monotonic()
    result = sync(tmp_path, cfg, [*BASE, NEW], 2)
    elapsed = time.monotonic() - started
    # The receiver is still holding the request (it is only released below): the sync left without it.
    assert not receiver.release.is_set() and len(receiver.received) == 1
    assert result.run_id == 2 and result.deliveries[0].error == "timed out after 0.5 s"
    assert elapsed < 10  # far below the hang (30 s) and the default timeout: the target's 0.5 s bound held
    assert outbox(tmp_path)[0][2] == "pending"
    receiver.release.set()
    sync(tmp_path, cfg, [*BASE, NEW], 3)
    assert outbox(tmp_path)[0][2] == "delivered"


def test_a_target_added_later_gets_no_backlog(tmp_path, receiver):
    sync(tmp_path, None, BASE, 1)
    sync(tmp_path, None, [*BASE, NEW], 2)
    cfg = config(tmp_path, webhook(receiver.url))
    sync(tmp_path, cfg, [*BASE, NEW], 3)
    assert receiver.received == []
    sync(tmp_path, cfg, BASE, 4)
    (got,) = receiver.received
    assert json.loads(got.body)["run_id"] == 4


def test_a_refused_mass_removal_sends_only_one_failure_alert_per_streak(tmp_path, receiver):
    many = [model(f"v/m{i}:free") for i in range(10)]
    cfg = config(tmp_path, webhook(receiver.url, on_failure="true"))
    sync(tmp_path, cfg, many, 1)
    for when in (2, 3):
        with pytest.raises(MassRemovalError, match="would remove 9 of the 10 free models at once"):
            sync(tmp_path, cfg, many[:1], when)
    (alert,) = receiver.received
    doc = json.loads(alert.body)
    assert doc["kind"] == "failure" and doc["run_id"] == 2 and "remove 9 of the 10" in doc["error"]
    sync(tmp_path, cfg, many, 4)  # ok again: the streak ends, no digest (nothing changed)
    with pytest.raises(MassRemovalError, match="would remove 9 of the 10 free models at once"):
        sync(tmp_path, cfg, many[:1], 5)
    assert [json.loads(r.body)["run_id"] for r in receiver.received] == [2, 5]


def test_notify_test_reports_each_target(tmp_path, receiver, cli):
    cfg = config(tmp_path, webhook(receiver.url) + webhook("http://127.0.0.1:9/dead/secret-token", timeout="2"))
    result = cli("notify", "--test", "--config", cfg)
    assert result.code == 1
    ok, dead = result.out.splitlines()
    assert ok == "webhook http://127.0.0.1/…: ok" and dead.startswith("webhook http://127.0.0.1/…: FAILED: ")
    assert "secret" not in result.out + result.err
    assert json.loads(receiver.received[0].body)["kind"] == "test"
    assert cli("notify", "--test", "--config", config(tmp_path, "")).code != 0


@pytest.mark.parametrize(
    "body, message",
    [
        ('[[notify.webhook]]\nurl = "ftp://x/y"\n', "`notify.webhook[0].url` must be an http:// or https:// URL"),
        (
            '[[notify.webhook]]\nurl = "https://x/y"\nevents = ["gone"]\n',
            "`notify.webhook[0].events` has unknown kind 'gone'",
        ),
        (
            '[[notify.webhook]]\nurl = "https://x/y"\ntimeout = 0\n',
            "`notify.webhook[0].timeout` must be a number of seconds",
        ),
        ('[[notify.webhook]]\nurl = "https://x/y"\nsecrt_env = "A"\n', "unknown key `notify.webhook[0].secrt_env`"),
        ('[[notify.apprise]]\nurl = "ntfy://t"\nsecret_env = "A"\n', "unknown key `notify.apprise[0].secret_env`"),
        ("[notify]\nmax_age = 5\n", "`notify.max_age` must be a duration string"),
        ("[feed]\nlimit = 0\n", "`feed.limit` must be a whole number from 1 to 1,000"),
        ("[feed]\nlimit = 1001\n", "`feed.limit` must be a whole number from 1 to 1,000"),
        ('[feed]\nurl = "free-models.atom"\n', "`feed.url` must be an http:// or https:// URL"),
        ("[charts]\ndayz = 3\n", "unknown key `charts.dayz`"),
    ],
)
def test_config_mistakes_are_one_line_naming_the_key(tmp_path, body, message):
    from catalog.config.loader import load_config
    from catalog.errors import CatalogError

    with pytest.raises(CatalogError) as err:
        load_config(config(tmp_path, body))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert "https://x/y" not in str(err.value)


def test_apprise_delivers_a_markdown_digest_to_a_local_json_receiver(tmp_path, receiver):
    pytest.importorskip("apprise")
    cfg = config(tmp_path, f'[[notify.apprise]]\nurl = "json://127.0.0.1:{receiver.port}/"\n')
    sync(tmp_path, cfg, BASE, 1)
    result = sync(tmp_path, cfg, [*BASE, NEW], 2)
    assert [d.error for d in result.deliveries] == [None]
    (got,) = receiver.received
    doc = json.loads(got.body)
    assert doc["title"] == "OpenRouter free models: 1 added"
    assert "➕ added: `mistralai/devstral-2512:free`" in doc["message"]
    assert outbox(tmp_path) == [("digest", 2, "delivered", 1, None)]
    receiver.script.extend([500, 500, 500])
    sync(tmp_path, cfg, BASE, 3)
    assert outbox(tmp_path)[1][2:4] == ("pending", 1)
