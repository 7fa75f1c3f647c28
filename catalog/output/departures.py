"""The models that stopped being free within the feed's grace window, with what they were at their
last run as free: the `gone` list of free-models.json before the replacement rule looks at it.

The window counts whole days back from the newest run's day (as "expires soon" does), so the list
changes with the day and the registry, never with the hour: a resync of an unchanged answer can
skip its render (catalog/output/render_skip.py digests the day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.config.pools import PoolConfig
from catalog.errors import CatalogError
from catalog.output.lastpools import LastSeen, PastPools
from catalog.registry.history import History, Period

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection


@dataclass(frozen=True, slots=True)
class Departure:
    id: str
    gone_since: datetime  # the run that first found it no longer free
    reason: str  # delisted / now_paid
    last: LastSeen | None  # its values and pools at its last run as free; None if the registry lacks them


def gone_within(history: History, grace_days: int) -> list[Period]:
    """Each model's last free period when it ended within the window, newest first."""
    latest: dict[str, Period] = {}
    for period in history.periods:  # by model, then start: the last one of a model is its latest
        latest[period.model_id] = period
    first_day = history.newest.date() - timedelta(days=grace_days)
    ended = [p for p in latest.values() if p.end is not None and p.end.date() >= first_day]
    return sorted(ended, key=lambda p: (-p.end.timestamp() if p.end else 0.0, p.model_id))


def departures(conn: AnyConnection, history: History | None, config: PoolConfig) -> tuple[Departure, ...]:
    """The gone models of the feed, newest first; () for an empty registry."""
    if history is None:
        return ()
    ended = gone_within(history, config.watch.feed.grace_days)
    last = PastPools(conn, config).last_seen_all(p.model_id for p in ended)
    return tuple(
        Departure(p.model_id, p.end, p.reason or "delisted", last.get(p.model_id)) for p in ended if p.end is not None
    )


def read_departures(conn: AnyConnection, history: History | None, config_path: Path | None) -> tuple[Departure, ...]:
    """departures() with the config at `config_path`; () when it cannot be read, which the render
    that follows reports in its own words."""
    from catalog.config.loader import load_config

    try:
        config = load_config(config_path)
    except CatalogError:
        return ()
    return departures(conn, history, config)
