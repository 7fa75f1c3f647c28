"""X-Catalog-Delivery names one message for good: the same on every attempt at it, and never the
same in two registries (whose outbox row ids both start at 1), even ones made in the same second
from the same answers (their registry ids, hashes of their first runs, are then equal too)."""

import json
import uuid

from fakeapi import model
from receiver import receiver  # noqa: F401  (the fixture)
from receiver import sync_answer as sync

BASE = [model("google/gemma-3-27b-it:free")]
NEW = model("mistralai/devstral-2512:free")


def test_two_registries_first_messages_differ_and_a_retry_keeps_its_id(tmp_path, receiver, db_url):
    cfg = tmp_path / "catalog.toml"
    cfg.write_text(f'[[notify.webhook]]\nurl = "{receiver.url}"\n')
    other = str(tmp_path / "other.db")
    for db in (db_url, other):  # the same answers, at the same observed times
        sync(tmp_path, db, cfg, BASE, 1)
    receiver.script.extend([500])
    sync(tmp_path, db_url, cfg, [*BASE, NEW], 2)  # refused: stays pending
    sync(tmp_path, other, cfg, [*BASE, NEW], 2)
    sync(tmp_path, db_url, cfg, [*BASE, NEW], 3)  # the retry
    first, second, retry = receiver.received
    ids = [r.headers["x-catalog-delivery"] for r in (first, second, retry)]
    assert [json.loads(r.body)["delivery_id"] for r in (first, second, retry)] == ids  # the body has it too
    assert ids[0] != ids[1] and ids[2] == ids[0]
    assert retry.body == first.body and uuid.UUID(ids[0]) and uuid.UUID(ids[1])
    strip = lambda r: {k: v for k, v in json.loads(r.body).items() if k not in ("delivery_id", "source")}  # noqa: E731
    assert strip(first) == strip(second)  # otherwise the same message, each registry's first


def test_notify_test_sends_a_new_delivery_id_each_time(tmp_path, receiver, cli):
    cfg = tmp_path / "catalog.toml"
    cfg.write_text(f'[[notify.webhook]]\nurl = "{receiver.url}"\n')
    assert cli("notify", "--test", "--config", cfg).code == 0
    assert cli("notify", "--test", "--config", cfg).code == 0
    ids = [r.headers["x-catalog-delivery"] for r in receiver.received]
    assert len(set(ids)) == 2 and all(uuid.UUID(i) for i in ids)


def test_a_failure_line_never_shows_the_targets_secrets(monkeypatch):
    from catalog.config.watch import Target
    from catalog.watch.notify_send import failure_line

    monkeypatch.setenv("HOOK_SECRET", "s3cr3t-signing-value")
    target = Target(kind="webhook", url="https://user:pa55word@hooks.example/x", secret_env="HOOK_SECRET")
    text = failure_line(
        RuntimeError("refused s3cr3t-signing-value at user:pa55word@hooks.example " + "x" * 400), target
    )
    assert "s3cr3t" not in text and "pa55word" not in text and len(text) <= 300
