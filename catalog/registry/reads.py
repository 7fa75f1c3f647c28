"""Registry reads: the state a diff needs, and the snapshots that render and queries show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, func, or_, select

from catalog.availability import health_store
from catalog.ingest.normalize import ModelRecord
from catalog.registry.schema import Event, Model, ModelVersion, Run
from catalog.state import EventRecord, FreeModel, Snapshot

runs, models, versions, events = Run.__table__, Model.__table__, ModelVersion.__table__, Event.__table__

RECENT_DAYS = 30
RECENT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    observed_at: datetime
    source: str
    payload_hash: str | None
    catalog_size: int | None
    free_count: int | None
    skipped: int


@dataclass(slots=True)
class RegistryState:
    """What a diff needs: the previous free set and every model's last free values."""

    previous_free: set[str]
    last_known: dict[str, ModelRecord]


# ---------------------------------------------------------------- reading state


def record_from_row(row: Any) -> ModelRecord:
    return ModelRecord(
        id=row.model_id,
        name=row.name,
        canonical_slug=row.canonical_slug,
        context_length=row.context_length,
        top_context_length=row.top_context_length,
        max_completion_tokens=row.max_completion_tokens,
        input_modalities=tuple(row.input_modalities or ()),
        output_modalities=tuple(row.output_modalities or ()),
        supported_parameters=tuple(row.supported_parameters or ()),
        pricing=tuple(sorted((row.pricing or {}).items())),
        expiration_date=row.expiration_date,
        created=row.created,
        description=row.description,
        hugging_face_id=row.hugging_face_id,
    )


def _run_info(row: Any) -> RunInfo | None:
    if row is None:
        return None
    return RunInfo(row.id, row.observed_at, row.source, row.payload_hash, row.catalog_size, row.free_count, row.skipped)


def last_ok_run(conn, at: datetime | None = None) -> RunInfo | None:
    query = select(runs).where(runs.c.status == "ok")
    if at is not None:
        query = query.where(runs.c.observed_at <= at)
    return _run_info(conn.execute(query.order_by(runs.c.id.desc()).limit(1)).first())


def free_ids(conn) -> list[str]:
    """The ids of the models free after the newest sync, in order."""
    return list(conn.execute(select(models.c.id).where(models.c.is_free.is_(True)).order_by(models.c.id)).scalars())


def load_state(conn) -> RegistryState:
    latest = select(func.max(versions.c.id)).group_by(versions.c.model_id)
    rows = conn.execute(
        select(versions, models.c.is_free)
        .join(models, models.c.id == versions.c.model_id)
        .where(versions.c.id.in_(latest))
    ).all()
    return RegistryState(
        previous_free={row.model_id for row in rows if row.is_free},
        last_known={row.model_id: record_from_row(row) for row in rows},
    )


def payload_seen(conn, payload_hash: str, observed_at: datetime) -> bool:
    """True when this exact answer was already stored as of this time (import's skip rule)."""
    query = select(runs.c.id).where(
        runs.c.status == "ok", runs.c.payload_hash == payload_hash, runs.c.observed_at == observed_at
    )
    return conn.execute(query.limit(1)).first() is not None


# ---------------------------------------------------------------- snapshots for render and queries


def free_versions_at(run_id: int):
    """Versions valid at a run: the free models and their values as of that run."""
    return and_(
        versions.c.valid_from_run <= run_id,
        or_(versions.c.valid_to_run.is_(None), versions.c.valid_to_run > run_id),
    )


def streaks_at(conn, run_id: int) -> dict[str, tuple[datetime, int]]:
    """model id -> (start of its latest free streak, times removed), as of a run."""
    membership = ("added", "returned")
    rows = conn.execute(
        select(
            events.c.model_id,
            func.max(events.c.observed_at).filter(events.c.kind.in_(membership)),
            func.count().filter(events.c.kind == "removed"),
        )
        .where(events.c.run_id <= run_id, events.c.kind.in_(membership + ("removed",)))
        .group_by(events.c.model_id)
    ).all()
    return {mid: (since, removed) for mid, since, removed in rows}


def load_snapshot(conn, at: datetime | None = None) -> Snapshot:
    run = last_ok_run(conn, at)
    if run is None:
        return Snapshot(models=(), observed_at=None, last_changed_at=None, source=None, recent_events=())
    rows = conn.execute(
        select(versions, models.c.first_seen_free)
        .join(models, models.c.id == versions.c.model_id)
        .where(free_versions_at(run.id))
    ).all()
    rows.sort(key=lambda row: row.model_id)  # by code point, as on SQLite, whatever the server's collation
    streaks = streaks_at(conn, run.id)
    free = tuple(
        FreeModel(
            record=record_from_row(row),
            first_seen_free=row.first_seen_free,
            free_since=streaks[row.model_id][0],
            times_removed=streaks[row.model_id][1],
        )
        for row in rows
    )
    last_changed = conn.execute(select(func.max(events.c.observed_at)).where(events.c.run_id <= run.id)).scalar()
    recent = load_events(
        conn, since=run.observed_at - timedelta(days=RECENT_DAYS), until_run=run.id, limit=RECENT_LIMIT
    )
    health, measured_at = health_store.load_health(conn, at)
    return Snapshot(
        models=free,
        observed_at=run.observed_at,
        last_changed_at=last_changed,
        source=run.source,
        recent_events=tuple(recent),
        health=health,
        health_at=max(run.observed_at, measured_at) if measured_at else run.observed_at,
    )


def load_events(
    conn,
    *,
    since: datetime | None = None,
    until_run: int | None = None,
    kinds: Iterable[str] | None = None,
    model_id: str | None = None,
    field: str | None = None,
    limit: int | None = None,
) -> list[EventRecord]:
    """Events, newest first."""
    query = select(events)
    if since is not None:
        query = query.where(events.c.observed_at >= since)
    if until_run is not None:
        query = query.where(events.c.run_id <= until_run)
    if kinds:
        query = query.where(events.c.kind.in_(list(kinds)))
    if model_id is not None:
        query = query.where(events.c.model_id == model_id)
    if field is not None:
        query = query.where(events.c.field == field)
    query = query.order_by(events.c.run_id.desc(), events.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [
        EventRecord(
            run_id=row.run_id,
            observed_at=row.observed_at,
            model_id=row.model_id,
            kind=row.kind,
            reason=row.reason,
            field=row.field,
            old=row.old,
            new=row.new,
        )
        for row in conn.execute(query)
    ]
