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

from sqlalchemy import (
    JSON, BigInteger, Float, ForeignKey, Index, Integer, MetaData, String, Text, TypeDecorator, UniqueConstraint, text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from catalog.times import format_time, parse_time

class UtcTime(TypeDecorator):
    """A timezone-aware datetime stored as ISO 8601 UTC text, second precision."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return format_time(value) if value is not None else None

    def process_result_value(self, value, dialect):
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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    observed_at: Mapped[datetime] = mapped_column(UtcTime, index=True)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # "ok" or "failed"
    error: Mapped[str | None] = mapped_column(Text)
    catalog_size: Mapped[int | None] = mapped_column(Integer)
    free_count: Mapped[int | None] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    payload_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # A live sync's clock when its answer arrived (NULL for --observed-at and imports). Earlier than
    # observed_at when that host's clock was behind the newest stored run, whose time it then took.
    clock_at: Mapped[datetime | None] = mapped_column(UtcTime)


class Model(Base):
    __tablename__ = "models"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    vendor: Mapped[str] = mapped_column(Text, index=True)
    is_free: Mapped[bool]
    first_seen_free: Mapped[datetime] = mapped_column(UtcTime)
    # Start of the current (or last) uninterrupted free streak.
    free_since: Mapped[datetime] = mapped_column(UtcTime)
    # Observed time of the last sync that saw it free; kept current for free models too.
    last_seen_free: Mapped[datetime] = mapped_column(UtcTime)
    left_at: Mapped[datetime | None] = mapped_column(UtcTime)
    left_reason: Mapped[str | None] = mapped_column(String(20))  # delisted / now_paid
    times_removed: Mapped[int] = mapped_column(Integer, default=0)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        Index("ix_model_versions_model_id_valid_from_run", "model_id", "valid_from_run"),
        Index("ux_model_versions_open", "model_id", unique=True, sqlite_where=OPEN_VERSION, postgresql_where=OPEN_VERSION),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    valid_from_run: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    valid_to_run: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True)
    valid_from: Mapped[datetime] = mapped_column(UtcTime)
    valid_to: Mapped[datetime | None] = mapped_column(UtcTime)
    name: Mapped[str | None] = mapped_column(Text)
    canonical_slug: Mapped[str | None] = mapped_column(Text)
    context_length: Mapped[int | None] = mapped_column(WideInt)
    top_context_length: Mapped[int | None] = mapped_column(WideInt)
    max_completion_tokens: Mapped[int | None] = mapped_column(WideInt)
    input_modalities: Mapped[list | None] = mapped_column(Json)
    output_modalities: Mapped[list | None] = mapped_column(Json)
    supported_parameters: Mapped[list | None] = mapped_column(Json)
    pricing: Mapped[dict | None] = mapped_column(Json)
    expiration_date: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[int | None] = mapped_column(WideInt)
    description: Mapped[str | None] = mapped_column(Text)
    hugging_face_id: Mapped[str | None] = mapped_column(Text)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_model_id_run_id", "model_id", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    observed_at: Mapped[datetime] = mapped_column(UtcTime, index=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    kind: Mapped[str] = mapped_column(String(10))  # added / returned / removed / changed
    reason: Mapped[str | None] = mapped_column(String(20))  # removed: delisted / now_paid
    field: Mapped[str | None] = mapped_column(Text)  # changed: dotted API path
    old: Mapped[object | None] = mapped_column(Json)
    new: Mapped[object | None] = mapped_column(Json)


class HealthCheck(Base):
    """One passive health sample of one model: what its `/endpoints` said at `sampled_at`."""

    __tablename__ = "health_checks"
    __table_args__ = (Index("ix_health_checks_model_id_sampled_at", "model_id", "sampled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sampled_at: Mapped[datetime] = mapped_column(UtcTime, index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))  # the sync it followed, if any
    model_id: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))  # up / degraded / down / unknown
    status: Mapped[int | None] = mapped_column(Integer)  # the best endpoint's status
    endpoints: Mapped[int | None] = mapped_column(Integer)  # None when the call failed
    providers: Mapped[list | None] = mapped_column(Json)
    uptime_5m: Mapped[float | None] = mapped_column(Float)
    uptime_30m: Mapped[float | None] = mapped_column(Float)
    uptime_1d: Mapped[float | None] = mapped_column(Float)
    latency_p50_ms: Mapped[float | None] = mapped_column(Float)
    latency_p90_ms: Mapped[float | None] = mapped_column(Float)
    throughput_p50: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)  # why the state is unknown


class Probe(Base):
    """One active probe: a real chat call. `pending` while in flight, so the daily budget is exact."""

    __tablename__ = "probes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    probed_at: Mapped[datetime] = mapped_column(UtcTime, index=True)
    model_id: Mapped[str] = mapped_column(Text, index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    total_ms: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """The outbox: one digest or failure alert for one target, from one run. `pending` until the
    target accepts it (then `delivered`, never sent again) or it is older than max_age (`expired`).
    Targets are known by a hash of their config, so no URL or secret is ever stored."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("target_id", "run_id", "kind"),
        Index("ix_notifications_status_target_id", "status", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[str] = mapped_column(String(16))
    target_kind: Mapped[str] = mapped_column(String(10))  # webhook / apprise
    kind: Mapped[str] = mapped_column(String(10))  # digest / failure
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(UtcTime)  # the clock at enqueue: max_age counts from it
    title: Mapped[str | None] = mapped_column(Text)  # Apprise's title
    body: Mapped[str] = mapped_column(Text)  # exactly what is sent: the JSON payload or the Markdown
    status: Mapped[str] = mapped_column(String(10))  # pending / delivered / expired
    attempts: Mapped[int] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcTime)
    last_error: Mapped[str | None] = mapped_column(Text)  # one line, no URL
