"""What the feed and the charts read from the registry: numbered events, the free count of every
successful run, and each model's free periods. Plain data, read up to one successful run, so the
files built from it never depend on the clock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from catalog.registry.schema import Event, Run
from catalog.state import EventRecord

runs, events = Run.__table__, Event.__table__

MAX_FEED_EVENTS = 1000  # the most a feed may hold: watchconfig.MAX_FEED_LIMIT
MEMBERSHIP = ("added", "returned", "removed")


@dataclass(frozen=True, slots=True)
class Period:
    """One uninterrupted stretch of a model being free; `end` is None while it still is."""

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


def load_history(conn, at: datetime | None = None) -> History | None:
    """The history up to the newest successful run at or before `at`; None for an empty registry."""
    ok = select(runs.c.id, runs.c.observed_at, runs.c.free_count).where(runs.c.status == "ok")
    if at is not None:
        ok = ok.where(runs.c.observed_at <= at)
    counts = [(row.observed_at, row.free_count or 0, row.id) for row in conn.execute(ok.order_by(runs.c.id))]
    if not counts:
        return None
    newest, last_run = counts[-1][0], counts[-1][2]
    first = conn.execute(select(runs.c.id, runs.c.started_at, runs.c.observed_at).order_by(runs.c.id).limit(1)).one()
    registry_id = hashlib.sha256(f"{first.id}|{first.started_at}|{first.observed_at}".encode()).hexdigest()[:16]
    rows = conn.execute(
        select(events).where(events.c.run_id <= last_run).order_by(events.c.id.desc()).limit(MAX_FEED_EVENTS)
    ).all()
    numbered = tuple((row.id, record(row)) for row in rows)
    return History(
        registry_id=registry_id,
        born=first.observed_at,
        newest=newest,
        events=numbered,
        counts=tuple((when, n) for when, n, _ in counts),
        periods=free_periods(conn, last_run),
    )


def record(row) -> EventRecord:
    return EventRecord(run_id=row.run_id, observed_at=row.observed_at, model_id=row.model_id, kind=row.kind,
                       reason=row.reason, field=row.field, old=row.old, new=row.new)


def free_periods(conn, last_run: int) -> tuple[Period, ...]:
    """From the membership events alone: added/returned opens a period, removed closes it."""
    query = (
        select(events.c.model_id, events.c.kind, events.c.reason, events.c.observed_at)
        .where(events.c.run_id <= last_run, events.c.kind.in_(MEMBERSHIP))
        .order_by(events.c.model_id, events.c.run_id, events.c.id)
    )
    periods: list[Period] = []
    open_at: dict[str, datetime] = {}
    for model_id, kind, reason, when in conn.execute(query):
        if kind in ("added", "returned"):
            open_at.setdefault(model_id, when)
        elif model_id in open_at:
            periods.append(Period(model_id, open_at.pop(model_id), when, reason))
    periods += [Period(model_id, start) for model_id, start in open_at.items()]
    return tuple(sorted(periods, key=lambda p: (p.model_id, p.start)))
