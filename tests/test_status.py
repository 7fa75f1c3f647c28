"""`catalog status`: the newest ok and failed runs, the data's age, and --max-age for monitors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fakeapi import catalog_doc, model

from catalog.registry.lock import registry_lock

DOC = catalog_doc([model("a/one:free"), model("b/two:free"), model("c/paid", prompt="0.1", completion="0.2")])


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def sync(cli, answer_file):
    """A real sync from a saved answer, observed `ago` before now."""

    def run(ago: timedelta | None, doc=DOC):
        when = [] if ago is None else ["--observed-at", iso(datetime.now(UTC) - ago)]
        result = cli("sync", "--db", "catalog.db", "--from-file", answer_file(doc), "--no-render", *when)
        assert result.code == 0, result.err

    return run


def fail(cli):
    result = cli("sync", "--db", "catalog.db", "--from-file", "missing.json", "--no-render")
    assert result.code == 1


def test_no_registry_is_a_one_line_error(cli):
    result = cli("status", "--db", "nothing-here.db")
    assert result.code == 1
    assert result.err.startswith("catalog: error: ") and len(result.err.strip().splitlines()) == 1
    assert result.out == ""


def test_max_age_passes_for_fresh_data_and_fails_for_stale(cli, sync):
    sync(timedelta(hours=3, seconds=5))
    fresh = cli("status", "--db", "catalog.db", "--max-age", "4h")
    assert fresh.code == 0, fresh.err
    assert fresh.err == ""
    stale = cli("status", "--db", "catalog.db", "--max-age", "1h")
    assert stale.code == 1
    assert stale.err == "catalog: stale: last successful sync 3h ago (older than 1h)\n"
    assert "max age" in stale.out and "STALE" in stale.out  # the status is still shown
    assert cli("status", "--db", "catalog.db").code == 0  # no --max-age: informational only


def test_max_age_fails_when_no_sync_ever_succeeded(cli):
    fail(cli)
    result = cli("status", "--db", "catalog.db", "--max-age", "1d")
    assert result.code == 1
    assert result.err == "catalog: stale: no successful sync yet\n"
    plain = cli("status", "--db", "catalog.db")
    assert plain.code == 0
    assert "none yet" in plain.out and "cannot read missing.json" in plain.out


def test_json_shows_last_ok_last_failed_and_the_data_age(cli, sync):
    sync(timedelta(minutes=30))
    fail(cli)
    fail(cli)
    result = cli("status", "--db", "catalog.db", "--format", "json", "--max-age", "1h")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["last_ok"]["id"] == 1 and doc["last_ok"]["free_count"] == 2 and doc["last_ok"]["catalog_size"] == 3
    assert doc["last_ok"]["added"] == 2
    assert doc["last_failed"]["id"] == 3 and "missing.json" in doc["last_failed"]["error"]
    assert doc["failures_since_ok"] == 2
    assert doc["free_count"] == 2
    assert 30 * 60 <= doc["data_age_seconds"] < 60 * 60
    assert doc["max_age_seconds"] == 3600 and doc["stale"] is False
    observed = datetime.strptime(doc["last_ok"]["observed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(minutes=29) < datetime.now(UTC) - observed < timedelta(minutes=31)


def test_a_later_success_clears_the_failure_count(cli, sync):
    sync(timedelta(hours=2))
    fail(cli)
    sync(None, catalog_doc([model("a/one:free")]))  # observed now: after the failed run
    doc = cli("status", "--db", "catalog.db", "--format", "json").json()
    assert doc["last_ok"]["id"] == 3 and doc["last_ok"]["removed"] == 1
    assert doc["last_failed"]["id"] == 2
    assert doc["failures_since_ok"] == 0 and doc["free_count"] == 1
    assert doc["stale"] is None


def test_table_names_each_part(cli, sync):
    sync(timedelta(minutes=5))
    fail(cli)
    result = cli("status", "--db", "catalog.db")
    assert result.code == 0
    labels = [re.split(r"\s{2,}", line.strip())[0] for line in result.out.splitlines()]
    assert labels == ["registry", "last ok run", "result", "source", "last failed run", "error", "failing",
                      "free models", "health", "probes today", "notifications", "data age"]  # fmt: skip
    assert "3 models, 2 free: +2 added" in result.out
    assert "data age         5m" in result.out


def test_status_reads_while_a_sync_holds_the_lock(cli, sync, tmp_path):
    sync(timedelta(minutes=1))
    with registry_lock(str(tmp_path / "catalog.db")):
        result = cli("status", "--db", "catalog.db", "--max-age", "1h")
    assert result.code == 0, result.err
