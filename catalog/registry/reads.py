"""Registry reads: the state a diff needs, and the snapshots that render and queries show.

Plain SQL through catalog.registry.sql, so the query commands can run them on a sqlite3
connection without importing SQLAlchemy, and sync and render on their own connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from catalog.ingest.normalize import ModelRecord
from catalog.registry import health_reads, sql
from catalog.state import EventRecord, FreeModel, Snapshot
from catalog.times import format_time, parse_time

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection

RECENT_DAYS = 30
RECENT_LIMIT = 1000

# The columns of model_versions that make a ModelRecord, in the order of its fields.
VERSION_COLUMNS = (
    "model_id",
    "name",
    "canonical_slug",
    "context_length",
    "top_context_length",
    "max_completion_tokens",
    "input_modalities",
    "output_modalities",
    "supported_parameters",
    "pricing",
    "expiration_date",
    "created",
    "description",
    "hugging_face_id",
)
RUN_COLUMNS = "id, observed_at, source, payload_hash, catalog_size, free_count, skipped"
# Left out of a snapshot's records: nothing a snapshot feeds (render, pools, queries) shows it, and
# at ~1 KiB a model it was a third of a 50,000-model snapshot's memory (VmRSS: +190 -> +97 MiB).
SNAPSHOT_SKIPS = ("description",)
# Free at run :run: valid from a run at or before it, and not closed by then.
FREE_AT_RUN = "v.valid_from_run <= :run AND (v.valid_to_run IS NULL OR v.valid_to_run > :run)"
# Each model's newest version: its current values, or its last free ones.
NEWEST_VERSION = "v.id IN (SELECT max(id) FROM model_versions GROUP BY model_id)"


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    observed_at: datetime
    source: str
    payload_hash: str | None
    catalog_size: int | None
    free_count: int | None
    skipped: int


# A model's membership columns: (is_free, last_seen_free, left_at, left_reason).
Membership = tuple[bool, datetime, datetime | None, str | None]


@dataclass(slots=True)
class RegistryState:
    """What a diff needs: the previous free set and every model's last free values."""

    previous_free: set[str]
    last_known: dict[str, ModelRecord]


# ---------------------------------------------------------------- reading state


def version_select(*extra: str, skip: tuple[str, ...] = ()) -> str:
    """SELECT of a version's record columns (alias v, joined to models as m) and `extra` columns;
    the `skip` columns read as NULL."""
    columns = [f"NULL AS {name}" if name in skip else f"v.{name}" for name in VERSION_COLUMNS]
    return f"SELECT {', '.join(columns + list(extra))} FROM model_versions v JOIN models m ON m.id = v.model_id"


class RecordReader:
    """Rows that start with VERSION_COLUMNS -> ModelRecords. SQLite hands JSON back as text, and a
    few texts (["text"], the zero pricing) repeat across thousands of models: each is decoded once."""

    def __init__(self, conn: AnyConnection) -> None:
        self.loads = sql.json_decoder(conn)
        self.memo: dict[str, tuple[Any, ...]] = {}

    def items(self, value: Any) -> tuple[Any, ...]:
        """A JSON list as a tuple, a JSON object as its sorted (key, value) pairs; NULL as ()."""
        if value is None:
            return ()
        if isinstance(value, str):
            found = self.memo.get(value)
            if found is None:
                found = self.memo[value] = _items(self.loads(value))
            return found
        return _items(value)

    def record(self, row: Sequence[Any]) -> ModelRecord:
        # Positional: VERSION_COLUMNS follow ModelRecord's fields (tests/test_plain_reads.py checks).
        items = self.items
        return ModelRecord(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            items(row[6]),
            items(row[7]),
            items(row[8]),
            items(row[9]),
            row[10],
            row[11],
            row[12],
            row[13],
        )


def _items(decoded: Any) -> tuple[Any, ...]:
    return tuple(sorted(decoded.items())) if isinstance(decoded, dict) else tuple(decoded)


def time_or_none(value: str | None) -> datetime | None:
    return None if value is None else parse_time(value)


def last_ok_run(conn: AnyConnection, at: datetime | None = None) -> RunInfo | None:
    bound, params = sql.up_to("observed_at", at)
    found = sql.rows(
        conn, f"SELECT {RUN_COLUMNS} FROM runs WHERE status = 'ok' AND {bound} ORDER BY id DESC LIMIT 1", params
    )
    if not found:
        return None
    run_id, observed, source, payload_hash, size, free, skipped = found[0]
    return RunInfo(run_id, parse_time(observed), source, payload_hash, size, free, skipped)


def free_ids(conn: AnyConnection) -> list[str]:
    """The ids of the models free after the newest sync, in order."""
    return [row[0] for row in sql.rows(conn, "SELECT id FROM models WHERE is_free ORDER BY id")]


def known_model(conn: AnyConnection, model_id: str) -> bool:
    """Whether the model was ever free in this registry."""
    return sql.scalar(conn, "SELECT 1 FROM models WHERE id = :id", {"id": model_id}) is not None


def load_state(conn: AnyConnection) -> RegistryState:
    reader = RecordReader(conn)
    found = sql.rows(conn, f"{version_select('m.is_free')} WHERE {NEWEST_VERSION}")
    return RegistryState(
        previous_free={row[0] for row in found if row[-1]},
        last_known={row[0]: reader.record(row) for row in found},
    )


def payload_seen(conn: AnyConnection, payload_hash: str, observed_at: datetime) -> bool:
    """True when this exact answer was already stored as of this time (import's skip rule)."""
    statement = "SELECT 1 FROM runs WHERE status = 'ok' AND payload_hash = :hash AND observed_at = :at LIMIT 1"
    return sql.scalar(conn, statement, {"hash": payload_hash, "at": format_time(observed_at)}) is not None


# ---------------------------------------------------------------- snapshots for render and queries


def streaks_at(conn: AnyConnection, run_id: int) -> dict[str, tuple[datetime, int]]:
    """model id -> (start of its latest free streak, times removed), as of a run."""
    found = sql.rows(
        conn,
        "SELECT model_id, max(observed_at) FILTER (WHERE kind IN ('added', 'returned')),"
        " count(*) FILTER (WHERE kind = 'removed')"
        " FROM events WHERE run_id <= :run AND kind IN ('added', 'returned', 'removed') GROUP BY model_id",
        {"run": run_id},
    )
    # Every model with a removed event was added before it: its streak start is never NULL.
    return {mid: (parse_time(since), removed) for mid, since, removed in found}


def load_snapshot(conn: AnyConnection, at: datetime | None = None) -> Snapshot:
    run = last_ok_run(conn, at)
    if run is None:
        return Snapshot(models=(), observed_at=None, last_changed_at=None, source=None, recent_events=())
    reader = RecordReader(conn)
    extra = ("m.first_seen_free", "m.free_since", "m.times_removed")
    found = sorted(  # by code point, as on SQLite, whatever the server's collation
        sql.rows(conn, f"{version_select(*extra, skip=SNAPSHOT_SKIPS)} WHERE {FREE_AT_RUN}", {"run": run.id}),
        key=itemgetter(0),
    )
    # At the newest run, `models` holds each free model's current streak; an older run's streaks
    # come from the events up to it (a 50,000-row GROUP BY, ~15% of this read at that size). Read
    # outside a transaction, a sync may have committed since `run` was read: then the events too.
    newest = at is None and sql.scalar(conn, "SELECT max(id) FROM runs WHERE status = 'ok'") == run.id
    streaks = None if newest else streaks_at(conn, run.id)
    free = tuple(
        FreeModel(
            record=reader.record(row),
            first_seen_free=parse_time(row[-3]),
            free_since=parse_time(row[-2]) if streaks is None else streaks[row[0]][0],
            times_removed=row[-1] if streaks is None else streaks[row[0]][1],
        )
        for row in found
    )
    last_changed = sql.scalar(conn, "SELECT max(observed_at) FROM events WHERE run_id <= :run", {"run": run.id})
    recent = load_events(
        conn, since=run.observed_at - timedelta(days=RECENT_DAYS), until_run=run.id, limit=RECENT_LIMIT
    )
    health, measured_at = health_reads.load_health(conn, at)
    return Snapshot(
        models=free,
        observed_at=run.observed_at,
        last_changed_at=time_or_none(last_changed),
        source=run.source,
        recent_events=tuple(recent),
        health=health,
        health_at=max(run.observed_at, measured_at) if measured_at else run.observed_at,
    )


def latest_versions(conn: AnyConnection) -> list[tuple[FreeModel, Membership]]:
    """Every model ever free with its last free values, and its membership columns: (is_free,
    last_seen_free, left_at, left_reason), times as datetimes."""
    reader = RecordReader(conn)
    extra = (
        "m.first_seen_free",
        "m.free_since",
        "m.times_removed",
        "m.is_free",
        "m.last_seen_free",
        "m.left_at",
        "m.left_reason",
    )
    result: list[tuple[FreeModel, Membership]] = []
    for row in sql.rows(conn, f"{version_select(*extra)} WHERE {NEWEST_VERSION}"):
        first_seen, since, removed, is_free, last_seen, left_at, left_reason = row[len(VERSION_COLUMNS) :]
        model = FreeModel(reader.record(row), parse_time(first_seen), parse_time(since), removed)
        result.append((model, (bool(is_free), parse_time(last_seen), time_or_none(left_at), left_reason)))
    return result


EVENT_FILTERS = {
    "since": "observed_at >= :since",
    "until_run": "run_id <= :until_run",
    "of_run": "run_id = :of_run",
    "model_id": "model_id = :model_id",
    "field": "field = :field",
}


def load_events(
    conn: AnyConnection,
    *,
    since: datetime | None = None,
    until_run: int | None = None,
    of_run: int | None = None,
    kinds: Iterable[str] | None = None,
    model_id: str | None = None,
    field: str | None = None,
    limit: int | None = None,
) -> list[EventRecord]:
    """Events, newest first."""
    given = {
        "since": None if since is None else format_time(since),
        "until_run": until_run,
        "of_run": of_run,
        "model_id": model_id,
        "field": field,
    }
    params: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    where = [EVENT_FILTERS[name] for name in params]
    if kinds:
        where.append(f"kind IN {sql.in_list('kind', kinds, params)}")
    statement = "SELECT run_id, observed_at, model_id, kind, reason, field, old, new FROM events"
    if where:
        statement += f" WHERE {' AND '.join(where)}"
    statement += " ORDER BY run_id DESC, id DESC"
    if limit is not None:
        statement += " LIMIT :limit"
        params["limit"] = limit
    loads = sql.json_decoder(conn)
    return [event_record(row, loads) for row in sql.rows(conn, statement, params)]


def event_record(row: Sequence[Any], loads: Callable[[Any], Any]) -> EventRecord:
    """A row of (run_id, observed_at, model_id, kind, reason, field, old, new) -> its EventRecord."""
    run_id, observed, model_id, kind, reason, changed, old, new = row
    return EventRecord(
        run_id=run_id,
        observed_at=parse_time(observed),
        model_id=model_id,
        kind=kind,
        reason=reason,
        field=changed,
        old=loads(old),
        new=loads(new),
    )
