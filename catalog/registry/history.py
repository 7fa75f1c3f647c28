"""What the feed and the charts read from the registry: numbered events, the free count of every
successful run, and each model's free periods. Plain data, read up to one successful run, so the
files built from it never depend on the clock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from catalog.registry import sql
from catalog.registry.reads import event_record
from catalog.state import EventRecord
from catalog.times import parse_time

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection

MAX_FEED_EVENTS = 1000  # the most a feed may hold: config.watch.MAX_FEED_LIMIT


class Period(NamedTuple):
    """One uninterrupted stretch of a model being free; `end` is None while it still is. A named
    tuple: a chart of 50,000 models makes 50,000 (a frozen dataclass took 4x as long to build)."""

    model_id: str
    start: datetime
    end: datetime | None = None
    reason: str | None = None  # why it ended: delisted / now_paid


@dataclass(frozen=True, slots=True)
class History:
    registry_id: str  # stable for the life of a registry: a hash of its first run
    born: datetime  # observed time of the registry's first run (the tag URI's date)
    newest: datetime  # observed time of the run the files describe
    events: tuple[tuple[int, EventRecord], ...]  # (event id, event), newest first, at most MAX_FEED_EVENTS
    counts: tuple[tuple[datetime, int], ...]  # (observed, free count) of every successful run, oldest first
    periods: tuple[Period, ...]  # every free period up to `newest`, by model then start


def load_history(conn: AnyConnection, at: datetime | None = None) -> History | None:
    """The history up to the newest successful run at or before `at`; None for an empty registry."""
    bound, params = sql.up_to("observed_at", at)
    statement = f"SELECT observed_at, free_count, id FROM runs WHERE status = 'ok' AND {bound} ORDER BY id"
    counts = [(parse_time(when), n or 0, run_id) for when, n, run_id in sql.rows(conn, statement, params)]
    if not counts:
        return None
    newest, last_run = counts[-1][0], counts[-1][2]
    first_id, started, observed = sql.rows(conn, "SELECT id, started_at, observed_at FROM runs ORDER BY id LIMIT 1")[0]
    first_observed = parse_time(observed)
    # Of the datetimes' str(), as it always was: the feed's ids must never change.
    registry_id = hashlib.sha256(f"{first_id}|{parse_time(started)}|{first_observed}".encode()).hexdigest()[:16]
    loads = sql.json_decoder(conn)
    rows = sql.rows(
        conn,
        "SELECT id, run_id, observed_at, model_id, kind, reason, field, old, new FROM events"
        " WHERE run_id <= :run ORDER BY id DESC LIMIT :limit",
        {"run": last_run, "limit": MAX_FEED_EVENTS},
    )
    numbered = tuple((row[0], event_record(row[1:], loads)) for row in rows)
    return History(
        registry_id=registry_id,
        born=first_observed,
        newest=newest,
        events=numbered,
        counts=tuple((when, n) for when, n, _ in counts),
        periods=free_periods(conn, last_run),
    )


def free_periods(conn: AnyConnection, last_run: int) -> tuple[Period, ...]:
    """From the membership events alone: added/returned opens a period, removed closes it."""
    rows = sql.rows(
        conn,
        "SELECT model_id, kind, reason, observed_at FROM events"
        " WHERE run_id <= :run AND kind IN ('added', 'returned', 'removed') ORDER BY model_id, run_id, id",
        {"run": last_run},
    )
    periods: list[Period] = []
    open_at: dict[str, datetime] = {}
    for model_id, kind, reason, when in rows:
        if kind != "removed":
            open_at.setdefault(model_id, parse_time(when))
        elif model_id in open_at:
            periods.append(Period(model_id, open_at.pop(model_id), parse_time(when), reason))
    periods += [Period(model_id, start) for model_id, start in open_at.items()]
    return tuple(sorted(periods, key=lambda p: (p.model_id, p.start)))
