"""Registry writes: one sync = one transaction.

Every statement works on whole sets (executemany or one UPDATE), never one query per model, so
the cost of a sync grows with the size of the change, not with a loop of round trips.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, update

from catalog.ingest.diff import Change, Diff
from catalog.ingest.normalize import ModelRecord
from catalog.registry.reads import VERSION_COLUMNS as RECORD_COLUMNS
from catalog.registry.schema import Event, Model, ModelVersion, Run
from catalog.times import format_time

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

runs, models, versions, events = Run.__table__, Model.__table__, ModelVersion.__table__, Event.__table__


# ---------------------------------------------------------------- writing a sync

# Columns written when a model, a version or an event is added: in the table's order, as rows are built.
VERSION_COLUMNS = ("model_id", "valid_from_run", "valid_from", *RECORD_COLUMNS[1:])
EVENT_COLUMNS = ("run_id", "observed_at", "model_id", "kind", "reason", "field", "old", "new")
MODEL_COLUMNS = ("id", "vendor", "is_free", "first_seen_free", "free_since", "last_seen_free", "times_removed")


def _json(value: Any) -> str | None:
    """A JSON column's stored text, as its type would write it (json.dumps; None is SQL NULL)."""
    return None if value is None else json.dumps(value)


def _version_rows(records: list[ModelRecord], run_id: int, observed: str) -> list[tuple[Any, ...]]:
    texts: dict[tuple[Any, ...], str | None] = {}  # each distinct value serialized once: most records share theirs

    def as_text(value: tuple[Any, ...], shape: type) -> str | None:  # a tuple of strings or of pairs, never both
        if value not in texts:
            texts[value] = _json(shape(value) or None)
        return texts[value]

    return [
        (
            r.id,
            run_id,
            observed,
            r.name,
            r.canonical_slug,
            r.context_length,
            r.top_context_length,
            r.max_completion_tokens,
            as_text(r.input_modalities, list),
            as_text(r.output_modalities, list),
            as_text(r.supported_parameters, list),
            as_text(r.pricing, dict),
            r.expiration_date,
            r.created,
            r.description,
            r.hugging_face_id,
        )
        for r in records
    ]


def _event_rows(changes: list[Change], run_id: int, observed: str) -> list[tuple[Any, ...]]:
    return [(run_id, observed, c.model_id, c.kind, c.reason, c.field, _json(c.old), _json(c.new)) for c in changes]


def _insert_many(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """One executemany handed straight to the DBAPI cursor, its rows already in their stored form
    (times as ISO text, JSON as its text): SQLAlchemy's per-row parameter dicts and type
    processors were 1.8 s of the 2.5 s store of a 50,000-model first sync."""
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns), for_executemany=True)
    params: list[tuple[Any, ...]] | list[dict[str, Any]] = rows
    if compiled.positional:  # SQLite's qmark: tuples, whose order is the statement's (the table's)
        if tuple(compiled.positiontup or ()) != columns:
            raise ValueError(f"{table.name}: the columns must be listed in the table's order")
    else:  # psycopg's pyformat: named
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def insert_run(conn: Connection, **values: Any) -> int:
    values.setdefault("added", 0)
    values.setdefault("returned", 0)
    values.setdefault("removed", 0)
    values.setdefault("changed", 0)
    values.setdefault("skipped", 0)
    if values.get("error"):
        values["error"] = values["error"].replace("\x00", "")  # PostgreSQL's text cannot hold NUL
    key = conn.execute(insert(runs).values(**values)).inserted_primary_key
    assert key is not None  # a single-row INSERT always has its primary key
    run_id: int = key[0]
    return run_id


def finish_run(conn: Connection, run_id: int, finished_at: datetime, started_at: datetime) -> None:
    duration = int((finished_at - started_at).total_seconds() * 1000)
    conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=finished_at, duration_ms=duration))


def _close_versions(conn: Connection, ids: Iterable[str], run_id: int, observed: datetime) -> None:
    params = [{"mid": mid} for mid in ids]
    if params:
        conn.execute(
            update(versions)
            .where(versions.c.model_id == bindparam("mid"), versions.c.valid_to_run.is_(None))
            .values(valid_to_run=run_id, valid_to=observed),
            params,
        )


def apply_diff(conn: Connection, diff: Diff, run_id: int, observed: datetime) -> None:
    """Write one diff's consequences: versions opened and closed, membership, events."""
    _close_versions(conn, list(diff.removed) + [r.id for r in diff.updated], run_id, observed)
    if diff.removed:
        conn.execute(
            update(models)
            .where(models.c.id == bindparam("mid"))
            .values(
                is_free=False,
                left_at=observed,
                left_reason=bindparam("reason"),
                times_removed=models.c.times_removed + 1,
            ),
            [{"mid": mid, "reason": reason} for mid, reason in diff.removed.items()],
        )
    if diff.returned:
        conn.execute(
            update(models)
            .where(models.c.id == bindparam("mid"))
            .values(is_free=True, free_since=observed, left_at=None, left_reason=None),
            [{"mid": r.id} for r in diff.returned],
        )
    at = format_time(observed)
    if diff.added:
        rows = [(r.id, r.vendor, True, at, at, at, 0) for r in diff.added]
        _insert_many(conn, models, MODEL_COLUMNS, rows)
    opened = diff.added + diff.returned + diff.updated
    if opened:
        _insert_many(conn, versions, VERSION_COLUMNS, _version_rows(opened, run_id, at))
    if diff.changes:
        _insert_many(conn, events, EVENT_COLUMNS, _event_rows(diff.changes, run_id, at))


def mark_seen(conn: Connection, observed: datetime) -> None:
    """Every model free after this run was seen free at its observed time (one statement)."""
    conn.execute(update(models).where(models.c.is_free.is_(True)).values(last_seen_free=observed))
