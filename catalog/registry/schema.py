"""The registry's tables (SQLAlchemy 2). Alembic migrations own the real schema; this module is
what the code reads and writes through, and what `alembic check` compares migrations against.

Layout, in words:
- `runs`: one row per sync attempt, ok or failed.
- `models`: one row per model that is or ever was free: identity and membership summary; its
  current (or last free) values are its newest `model_versions` row.
- `model_versions`: the model's tracked values over time. A version is valid from run
  `valid_from_run` (inclusive) to `valid_to_run` (exclusive; NULL while current) and only while the
  model is free, so "free at run R" is `valid_from_run <= R < coalesce(valid_to_run, ∞)`.
- `events`: added / returned / removed / changed, each tied to a run.
Timestamps are ISO 8601 UTC text (`2026-01-24T08:00:00Z`): readable in any SQL tool and ordered
as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

from catalog.times import format_time, parse_time

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.schema import SchemaItem

# Core tables, not ORM classes: nothing here needs a mapper, and sqlalchemy.orm plus declarative
# mapping cost every command ~90 ms of start-up (profiled with -X importtime: sqlalchemy.orm
# 52 ms, this module's own mapping 39 ms). Each class keeps its table as `__table__`.


class UtcTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as ISO 8601 UTC text, second precision."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return format_time(value) if value is not None else None

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        return parse_time(value) if value is not None else None


# Token counts and Unix times pass 2^31 - 1 (PostgreSQL's integer); SQLite's INTEGER is 64-bit.
WideInt = BigInteger().with_variant(Integer(), "sqlite")
# At most one open (current) version per model: a double write fails instead of corrupting.
OPEN_VERSION = text("valid_to_run IS NULL")

# JSON with SQL NULL for None: "absent" and "null" are one value in this project.
Json = JSON(none_as_null=True)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class Base:
    """What Alembic compares the migrations against: `Base.metadata`."""

    metadata = MetaData(naming_convention=NAMING)


def _table(name: str, *items: SchemaItem) -> Table:
    return Table(name, Base.metadata, Column("id", Integer, primary_key=True), *items)


def _required(name: str, *args: Any, **kwargs: Any) -> Column[Any]:
    return Column(name, *args, nullable=False, **kwargs)


def _optional(name: str, *args: Any, **kwargs: Any) -> Column[Any]:
    return Column(name, *args, nullable=True, **kwargs)


class Run:
    __table__ = _table(
        "runs",
        _required("started_at", UtcTime),
        _optional("finished_at", UtcTime),
        _optional("duration_ms", Integer),
        _required("observed_at", UtcTime, index=True),
        _required("source", Text),
        _required("status", String(10)),  # "ok" or "failed"
        _optional("error", Text),
        _optional("catalog_size", Integer),
        _optional("free_count", Integer),
        *(_required(count, Integer, default=0) for count in ("added", "returned", "removed", "changed", "skipped")),
        _optional("payload_hash", String(64), index=True),
        # A live sync's clock when its answer arrived (NULL for --observed-at and imports). Earlier than
        # observed_at when that host's clock was behind the newest stored run, whose time it then took.
        _optional("clock_at", UtcTime),
    )


class Model:
    __table__ = Table(
        "models",
        Base.metadata,
        Column("id", Text, primary_key=True),
        _required("vendor", Text, index=True),
        _required("is_free", Boolean),
        _required("first_seen_free", UtcTime),
        # Start of the current (or last) uninterrupted free streak.
        _required("free_since", UtcTime),
        # Observed time of the last sync that saw it free; kept current for free models too.
        _required("last_seen_free", UtcTime),
        _optional("left_at", UtcTime),
        _optional("left_reason", String(20)),  # delisted / now_paid
        _required("times_removed", Integer, default=0),
    )


class ModelVersion:
    __table__ = _table(
        "model_versions",
        _required("model_id", ForeignKey("models.id")),
        _required("valid_from_run", ForeignKey("runs.id")),
        _optional("valid_to_run", ForeignKey("runs.id"), index=True),
        _required("valid_from", UtcTime),
        _optional("valid_to", UtcTime),
        _optional("name", Text),
        _optional("canonical_slug", Text),
        _optional("context_length", WideInt),
        _optional("top_context_length", WideInt),
        _optional("max_completion_tokens", WideInt),
        _optional("input_modalities", Json),
        _optional("output_modalities", Json),
        _optional("supported_parameters", Json),
        _optional("pricing", Json),
        _optional("expiration_date", String(32)),
        _optional("created", WideInt),
        _optional("description", Text),
        _optional("hugging_face_id", Text),
        Index("ix_model_versions_model_id_valid_from_run", "model_id", "valid_from_run"),
        Index(
            "ux_model_versions_open", "model_id", unique=True, sqlite_where=OPEN_VERSION, postgresql_where=OPEN_VERSION
        ),
    )


class Event:
    __table__ = _table(
        "events",
        _required("run_id", ForeignKey("runs.id"), index=True),
        _required("observed_at", UtcTime, index=True),
        _required("model_id", ForeignKey("models.id")),
        _required("kind", String(10)),  # added / returned / removed / changed
        _optional("reason", String(20)),  # removed: delisted / now_paid
        _optional("field", Text),  # changed: dotted API path
        _optional("old", Json),
        _optional("new", Json),
        Index("ix_events_model_id_run_id", "model_id", "run_id"),
    )


class HealthCheck:
    """One passive health sample of one model: what its `/endpoints` said at `sampled_at`."""

    __table__ = _table(
        "health_checks",
        _required("sampled_at", UtcTime, index=True),
        _optional("run_id", ForeignKey("runs.id")),  # the sync it followed, if any
        _required("model_id", Text),
        _required("state", String(10)),  # up / degraded / down / unknown
        _optional("status", Integer),  # the best endpoint's status
        _optional("endpoints", Integer),  # None when the call failed
        _optional("providers", Json),
        *(
            _optional(name, Float)
            for name in ("uptime_5m", "uptime_30m", "uptime_1d", "latency_p50_ms", "latency_p90_ms", "throughput_p50")
        ),
        _optional("error", Text),  # why the state is unknown
        Index("ix_health_checks_model_id_sampled_at", "model_id", "sampled_at"),
    )


class Probe:
    """One active probe: a real chat call. `pending` while in flight, so the daily budget is exact."""

    __table__ = _table(
        "probes",
        _required("probed_at", UtcTime, index=True),
        _required("model_id", Text, index=True),
        _required("outcome", String(20)),
        _optional("http_status", Integer),
        _optional("ttft_ms", Float),
        _optional("total_ms", Float),
        _optional("detail", Text),
    )


class Notification:
    """The outbox: one digest or failure alert for one target, from one run. `pending` until the
    target accepts it (then `delivered`, never sent again) or it is older than max_age (`expired`).
    Targets are known by a hash of their config, so no URL or secret is ever stored."""

    __table__ = _table(
        "notifications",
        _required("target_id", String(16)),
        _required("target_kind", String(10)),  # webhook / apprise
        _required("kind", String(10)),  # digest / failure
        _required("run_id", ForeignKey("runs.id")),
        _required("created_at", UtcTime),  # the clock at enqueue: max_age counts from it
        _optional("title", Text),  # Apprise's title
        _required("body", Text),  # exactly what is sent: the JSON payload or the Markdown
        _required("status", String(10)),  # pending / delivered / expired
        _required("attempts", Integer),
        _optional("last_attempt_at", UtcTime),
        _optional("delivered_at", UtcTime),
        _optional("last_error", Text),  # one line, no URL
        UniqueConstraint("target_id", "run_id", "kind"),
        Index("ix_notifications_status_target_id", "status", "target_id"),
    )


class SyncLock:
    """PostgreSQL's sync lock: a sync holds an EXCLUSIVE lock on this table, which a reader role
    cannot take (catalog.registry.pglock). It holds no rows; SQLite has it too but never locks it."""

    __table__ = _table("sync_lock")


class AccountCheck:
    """The account's own view after a sync that had the API key: `/models/user` (was it read, and
    how many free models it lists or leaves out) and `/key`'s free-model requests left that day."""

    __table__ = _table(
        "account_checks",
        _optional("run_id", ForeignKey("runs.id"), index=True),  # the sync it followed
        _required("read_at", UtcTime),
        _required("models_read", Boolean),  # False: /models/user failed, nothing is marked
        _optional("usable_count", Integer),  # free models it lists
        _optional("blocked_count", Integer),  # free models it leaves out
        _optional("free_requests_left", Integer),  # None when /key failed or does not say
        _optional("free_requests_limit", Integer),
    )


class AccountBlocked:
    """A model free at the check's run that `/models/user` did not list: blocked for this account
    (its privacy or guardrail settings). The others free at that run are usable."""

    __table__ = _table(
        "account_blocked",
        _required("check_id", ForeignKey("account_checks.id"), index=True),
        _required("model_id", Text),
    )
