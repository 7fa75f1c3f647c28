"""Where a model stands (catalog/registry/standing.py) and the pools it was last in
(catalog/output/lastpools.py), read from a registry built by real syncs, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakeapi import catalog_doc, model

from catalog.config.pools import PoolConfig
from catalog.output.lastpools import PastPools
from catalog.registry.db import query_connection
from catalog.registry.standing import last_free_runs, standings
from catalog.settings import Settings
from catalog.sync import run_once

T0 = datetime(2026, 1, 20, 8, 0, tzinfo=UTC)
PAID = {"prompt": "0.000001", "completion": "0.000002"}


@pytest.fixture
def registry(db_url, answer_file):
    """Run 1: four free models. Run 2: alpha delisted, beta paid (still listed). Run 3: the same."""
    first = [
        model("a/alpha-7b:free", expiration_date="2026-02-01"),
        model("b/beta-70b"),
        model("c/coder-32b:free"),
        model("d/delta-8b:free"),
    ]
    later = [model("b/beta-70b", pricing=PAID), model("c/coder-32b:free"), model("d/delta-8b:free")]
    for hours, models in ((0, first), (1, later), (2, later)):
        path = answer_file(catalog_doc(models))
        run_once(Settings(db=db_url, from_file=path, observed_at=T0 + timedelta(hours=hours), render=False))
    return db_url


def test_standings_tell_free_listed_since_and_why(registry):
    with query_connection(registry) as conn:
        found = standings(conn)
    alpha, beta, coder = found["a/alpha-7b:free"], found["b/beta-70b"], found["c/coder-32b:free"]
    assert (alpha.free, alpha.listed, alpha.reason, alpha.since) == (False, False, "delisted", T0 + timedelta(hours=1))
    assert alpha.expiration_date == "2026-02-01" and alpha.record.vendor == "a"
    assert (beta.free, beta.listed, beta.reason, beta.since) == (False, True, "now_paid", T0 + timedelta(hours=1))
    assert (coder.free, coder.listed, coder.reason, coder.since) == (True, True, None, None)
    assert coder.health is None and coder.health_state == "unknown"
    assert "x/never-seen:free" not in found


def test_standings_of_some_ids_only(registry):
    with query_connection(registry) as conn:
        assert set(standings(conn, ["c/coder-32b:free", "x/never-seen:free"])) == {"c/coder-32b:free"}


def test_last_free_run(registry):
    with query_connection(registry) as conn:
        runs = last_free_runs(conn, ["a/alpha-7b:free", "b/beta-70b", "c/coder-32b:free", "x/never-seen:free"])
        assert runs == {"a/alpha-7b:free": 1, "b/beta-70b": 1, "c/coder-32b:free": 3}
        wanted = ["a/alpha-7b:free", "c/coder-32b:free", "x/never-seen:free"]
        assert last_free_runs(conn, wanted) == {"a/alpha-7b:free": 1, "c/coder-32b:free": 3}


def test_the_pools_a_gone_model_was_last_in(registry):
    with query_connection(registry) as conn:
        past = PastPools(conn, PoolConfig())
        alpha = past.last_seen("a/alpha-7b:free")
        assert alpha is not None and alpha.record.name == "A: alpha-7b (free)"
        assert "SMALL" in alpha.pools and "LARGE" not in alpha.pools
        beta = past.last_seen("b/beta-70b")
        assert beta is not None and "LARGE" in beta.pools
        assert past.at_run(1) is past.at_run(1)  # each run rebuilt once
        assert "a/alpha-7b:free" in past.at_run(1).pools["SMALL"]
        assert past.last_seen("x/never-seen:free") is None
