"""The pools a model was in at its last run as free. Pools are not stored: they are the pool rules
applied to a snapshot, so a past run's pools are rebuilt from the registry's history as a time
travel (`--at`) reads it: that run's free models, streaks and health, with today's config."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.config.pools import PoolConfig
from catalog.ingest.normalize import ModelRecord
from catalog.output.pools import build_pools
from catalog.registry.reads import load_snapshot
from catalog.registry.standing import last_free_runs, run_time

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection


@dataclass(frozen=True, slots=True)
class LastSeen:
    """A model at its last run as free: its values then and the pools that held it."""

    record: ModelRecord
    pools: tuple[str, ...]  # in the config's pool order


@dataclass(frozen=True, slots=True)
class RunPools:
    records: dict[str, ModelRecord]  # the models free at that run
    pools: dict[str, frozenset[str]]  # pool name -> its members then


class PastPools:
    """Rebuilds the pools of past runs on demand, each run once (many models left at one run)."""

    def __init__(self, conn: AnyConnection, config: PoolConfig) -> None:
        self._conn = conn
        self._config = config
        self._runs: dict[int, RunPools | None] = {}

    def at_run(self, run_id: int) -> RunPools | None:
        """The pools of a successful run; None when there is no such run."""
        if run_id not in self._runs:
            self._runs[run_id] = self._build(run_id)
        return self._runs[run_id]

    def _build(self, run_id: int) -> RunPools | None:
        when = run_time(self._conn, run_id)
        if when is None:
            return None
        snapshot = load_snapshot(self._conn, when)
        pools = build_pools(snapshot, self._config)
        return RunPools(
            records={m.id: m.record for m in snapshot.models},
            pools={name: frozenset(pools.ids(name)) for name in pools.pools},
        )

    def last_seen(self, model_id: str) -> LastSeen | None:
        """The model at its last run as free; None when the registry never saw it free."""
        return self.last_seen_all([model_id]).get(model_id)

    def last_seen_all(self, ids: Iterable[str]) -> dict[str, LastSeen]:
        """last_seen() of each of `ids` the registry saw free, with one read for them all."""
        found: dict[str, LastSeen] = {}
        for model_id, run_id in last_free_runs(self._conn, ids).items():
            then = self.at_run(run_id)
            if then is not None and model_id in then.records:
                held = tuple(name for name, members in then.pools.items() if model_id in members)
                found[model_id] = LastSeen(record=then.records[model_id], pools=held)
        return found
