"""Registry writes: one sync = one transaction.

Every statement works on whole sets (executemany or one UPDATE), never one query per model, so
the cost of a sync grows with the size of the change, not with a loop of round trips.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import bindparam, insert, update

from catalog.ingest.diff import Change, Diff
from catalog.ingest.normalize import ModelRecord
from catalog.registry.schema import Event, Model, ModelVersion, Run

runs, models, versions, events = Run.__table__, Model.__table__, ModelVersion.__table__, Event.__table__


# ---------------------------------------------------------------- writing a sync


def _version_row(record: ModelRecord, run_id: int, observed: datetime) -> dict[str, Any]:
    return {
        "model_id": record.id,
        "valid_from_run": run_id,
        "valid_from": observed,
        "name": record.name,
        "canonical_slug": record.canonical_slug,
        "context_length": record.context_length,
        "top_context_length": record.top_context_length,
        "max_completion_tokens": record.max_completion_tokens,
        "input_modalities": list(record.input_modalities) or None,
        "output_modalities": list(record.output_modalities) or None,
        "supported_parameters": list(record.supported_parameters) or None,
        "pricing": dict(record.pricing) or None,
        "expiration_date": record.expiration_date,
        "created": record.created,
        "description": record.description,
        "hugging_face_id": record.hugging_face_id,
    }


def _event_row(change: Change, run_id: int, observed: datetime) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "observed_at": observed,
        "model_id": change.model_id,
        "kind": change.kind,
        "reason": change.reason,
        "field": change.field,
        "old": change.old,
        "new": change.new,
    }


def insert_run(conn, **values: Any) -> int:
    values.setdefault("added", 0)
    values.setdefault("returned", 0)
    values.setdefault("removed", 0)
    values.setdefault("changed", 0)
    values.setdefault("skipped", 0)
    if values.get("error"):
        values["error"] = values["error"].replace("\x00", "")  # PostgreSQL's text cannot hold NUL
    return conn.execute(insert(runs).values(**values)).inserted_primary_key[0]


def finish_run(conn, run_id: int, finished_at: datetime, started_at: datetime) -> None:
    duration = int((finished_at - started_at).total_seconds() * 1000)
    conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=finished_at, duration_ms=duration))


def _close_versions(conn, ids: Iterable[str], run_id: int, observed: datetime) -> None:
    params = [{"mid": mid} for mid in ids]
    if params:
        conn.execute(
            update(versions)
            .where(versions.c.model_id == bindparam("mid"), versions.c.valid_to_run.is_(None))
            .values(valid_to_run=run_id, valid_to=observed),
            params,
        )


def apply_diff(conn, diff: Diff, run_id: int, observed: datetime) -> None:
    """Write one diff's consequences: versions opened and closed, membership, events."""
    _close_versions(conn, list(diff.removed) + [r.id for r in diff.updated], run_id, observed)
    if diff.removed:
        conn.execute(
            update(models)
            .where(models.c.id == bindparam("mid"))
            .values(is_free=False, left_at=observed, left_reason=bindparam("reason"), times_removed=models.c.times_removed + 1),
            [{"mid": mid, "reason": reason} for mid, reason in diff.removed.items()],
        )
    if diff.returned:
        conn.execute(
            update(models)
            .where(models.c.id == bindparam("mid"))
            .values(is_free=True, free_since=observed, left_at=None, left_reason=None),
            [{"mid": r.id} for r in diff.returned],
        )
    if diff.added:
        conn.execute(
            insert(models),
            [
                {
                    "id": r.id,
                    "vendor": r.vendor,
                    "is_free": True,
                    "first_seen_free": observed,
                    "free_since": observed,
                    "last_seen_free": observed,
                    "times_removed": 0,
                }
                for r in diff.added
            ],
        )
    opened = diff.added + diff.returned + diff.updated
    if opened:
        conn.execute(insert(versions), [_version_row(r, run_id, observed) for r in opened])
    if diff.changes:
        conn.execute(insert(events), [_event_row(c, run_id, observed) for c in diff.changes])


def mark_seen(conn, observed: datetime) -> None:
    """Every model free after this run was seen free at its observed time (one statement)."""
    conn.execute(update(models).where(models.c.is_free.is_(True)).values(last_seen_free=observed))
