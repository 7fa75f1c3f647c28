"""Where a model stands as the registry knows it: free now or not, still listed or not, since when,
its expiration date and measured health; and the last run at which it was free. What a verdict on
a model id (`catalog check`) and the feed's `gone` list are judged by.

The registry keeps only models that are or once were free. A model that stopped being free while
still listed (`now_paid`) reads as listed: catalog stops following a model once it is paid, so a
later delisting of it is never seen.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from catalog.ingest.normalize import ModelRecord
from catalog.registry import health_reads, sql
from catalog.registry.reads import NEWEST_VERSION, latest_versions
from catalog.state import FreeModel, ModelHealth
from catalog.times import parse_time

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection


@dataclass(frozen=True, slots=True)
class Standing:
    model: FreeModel  # its current values, or its last free ones
    free: bool  # free at the newest run
    listed: bool  # listed at the newest run, as far as the registry can tell (see the module)
    since: datetime | None  # when it stopped being free; None while free
    reason: str | None  # why it stopped: delisted / now_paid; None while free
    health: ModelHealth | None  # its newest measured health; None when never measured

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def record(self) -> ModelRecord:
        return self.model.record

    @property
    def expiration_date(self) -> str | None:
        return self.model.record.expiration_date

    @property
    def health_state(self) -> str:
        """up / degraded / down / unknown (never measured counts as unknown)."""
        return self.health.state if self.health is not None else "unknown"


def standings(conn: AnyConnection, ids: Iterable[str] | None = None) -> dict[str, Standing]:
    """model id -> its Standing, for every model ever free (or only `ids`; an id the registry
    never saw is absent)."""
    wanted = None if ids is None else set(ids)
    health, _ = health_reads.load_health(conn)
    found: dict[str, Standing] = {}
    for model, (is_free, _last_seen, left_at, left_reason) in latest_versions(conn):
        if wanted is not None and model.id not in wanted:
            continue
        found[model.id] = Standing(
            model=model,
            free=is_free,
            listed=is_free or left_reason != "delisted",
            since=None if is_free else left_at,
            reason=None if is_free else left_reason,
            health=health.get(model.id),
        )
    return found


def last_free_runs(conn: AnyConnection, ids: Iterable[str]) -> dict[str, int]:
    """model id -> the newest successful run at which it was free, for each of `ids` ever free.
    Three statements whatever the number of ids: a mass removal costs no query per model."""
    wanted = set(ids)
    if not wanted:  # the usual render: nothing gone lately, nothing to read
        return {}
    ok_runs = [int(run) for (run,) in sql.rows(conn, "SELECT id FROM runs WHERE status = 'ok' ORDER BY id")]
    # Each model's newest version: still open (free now), or closed by the run that found it gone.
    ended = sql.rows(conn, f"SELECT v.model_id, v.valid_to_run FROM model_versions v WHERE {NEWEST_VERSION}")
    found: dict[str, int] = {}
    for model_id, until in ended:
        if model_id not in wanted or not ok_runs:
            continue
        if until is None:
            found[model_id] = ok_runs[-1]
        elif (before := bisect_left(ok_runs, int(until))) > 0:
            found[model_id] = ok_runs[before - 1]
    return found


def run_time(conn: AnyConnection, run_id: int) -> datetime | None:
    """The observed time of a run; None when there is no such run."""
    found = sql.scalar(conn, "SELECT observed_at FROM runs WHERE id = :id", {"id": run_id})
    return None if found is None else parse_time(found)
