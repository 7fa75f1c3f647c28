"""Read-only questions to the registry, as plain rows (dicts) for the output formats."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from catalog.errors import CatalogError
from catalog.registry import health_reads, reads
from catalog.state import EventRecord, FreeModel, ModelHealth, ProbeRecord

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection

MODEL_COLUMNS = (
    "id",
    "name",
    "vendor",
    "context_length",
    "max_completion_tokens",
    "input_modalities",
    "output_modalities",
    "expiration_date",
    "first_seen_free",
    "free_since",
    "health",
    "uptime_1d",
    "availability_7d",
    "latency_p50_ms",
)
ALL_MODEL_COLUMNS = (*MODEL_COLUMNS, "is_free", "last_seen_free", "left_at", "left_reason", "times_removed")
EVENT_COLUMNS = ("observed_at", "model_id", "kind", "reason", "field", "old", "new", "run_id")


def model_row(model: FreeModel, health: ModelHealth | None = None) -> dict[str, Any]:
    record = model.record
    health = health or ModelHealth()
    return {
        "id": record.id,
        "name": record.name,
        "vendor": record.vendor,
        "context_length": record.context_length,
        "max_completion_tokens": record.max_completion_tokens,
        "input_modalities": list(record.input_modalities),
        "output_modalities": list(record.output_modalities),
        "expiration_date": record.expiration_date,
        "first_seen_free": model.first_seen_free,
        "free_since": model.free_since,
        "health": health.state,
        "uptime_1d": health.uptime_1d,
        "availability_7d": health.availability_7d,
        "latency_p50_ms": health.latency_p50_ms,
    }


def free_models(conn: AnyConnection, at: datetime | None = None) -> list[dict[str, Any]]:
    """The free models after the newest sync, or after the last one observed at or before `at`."""
    snapshot = reads.load_snapshot(conn, at)
    return [model_row(m, snapshot.health.get(m.id)) for m in snapshot.models]


def all_models(conn: AnyConnection) -> list[dict[str, Any]]:
    """Every model ever free, with its last free values and whether (and when) it left."""
    health, _ = health_reads.load_health(conn)
    result = []
    for model, (is_free, last_seen_free, left_at, left_reason) in reads.latest_versions(conn):
        result.append(
            model_row(model, health.get(model.id) if is_free else None)
            | {
                "is_free": is_free,
                "last_seen_free": last_seen_free,
                "left_at": left_at,
                "left_reason": left_reason,
                "times_removed": model.times_removed,
            }
        )
    return result


def filter_models(
    rows: Iterable[dict[str, Any]],
    *,
    vendor: str | None = None,
    min_context: int | None = None,
    modality: str | None = None,
    sort: str = "id",
) -> list[dict[str, Any]]:
    selected = [
        row
        for row in rows
        if (vendor is None or row["vendor"].lower() == vendor.lower())
        and (min_context is None or (row["context_length"] or 0) >= min_context)
        and (modality is None or modality in row["input_modalities"] or modality in row["output_modalities"])
    ]
    if sort == "context":
        selected.sort(key=lambda r: (-(r["context_length"] or 0), r["id"]))
    elif sort == "first-seen":
        selected.sort(key=lambda r: (r["first_seen_free"], r["id"]))
    else:
        selected.sort(key=lambda r: r["id"])
    return selected


def event_rows(events: Iterable[EventRecord]) -> list[dict[str, Any]]:
    return [e.as_dict() for e in events]


def changes(
    conn: AnyConnection,
    *,
    since: datetime | None = None,
    kinds: Iterable[str] | None = None,
    model_id: str | None = None,
    field: str | None = None,
) -> list[dict[str, Any]]:
    """Events, newest first."""
    return event_rows(reads.load_events(conn, since=since, kinds=kinds, model_id=model_id, field=field))


def history(conn: AnyConnection, model_id: str) -> list[dict[str, Any]]:
    """One model's timeline, oldest first."""
    timeline = reads.load_events(conn, model_id=model_id)
    if not timeline:
        if not reads.known_model(conn, model_id):
            raise CatalogError(
                f"{model_id} was never free in this registry; `catalog models --all` lists the known ids"
            )
    return event_rows(reversed(timeline))


# ---------------------------------------------------------------- health


def probe_view(probe: ProbeRecord | None) -> dict[str, Any] | None:
    if probe is None:
        return None
    return {"outcome": probe.outcome, "ttft_ms": probe.ttft_ms, "at": probe.at}


def health_now(conn: AnyConnection) -> list[dict[str, Any]]:
    """One row per model free now, from its latest sample (`unknown` when never sampled)."""
    snapshot = reads.load_snapshot(conn)
    rows = []
    for model in snapshot.models:
        h = snapshot.health.get(model.id) or ModelHealth()
        rows.append(
            {
                "model_id": model.id,
                "state": h.state,
                "status": h.status,
                "endpoints": h.endpoints,
                "providers": list(h.providers),
                "uptime_5m": h.uptime_5m,
                "uptime_30m": h.uptime_30m,
                "uptime_1d": h.uptime_1d,
                "latency_p50_ms": h.latency_p50_ms,
                "latency_p90_ms": h.latency_p90_ms,
                "throughput_p50": h.throughput_p50,
                "availability_7d": h.availability_7d,
                "sampled_at": h.sampled_at,
                "last_probe": probe_view(h.last_probe),
                "account": h.account,
            }
        )
    return rows


def health_samples(conn: AnyConnection, model_id: str, since: datetime | None = None) -> list[dict[str, Any]]:
    """One model's samples, oldest first."""
    rows = health_reads.samples_of(conn, model_id, since)
    if not rows:
        if not reads.known_model(conn, model_id):
            raise CatalogError(
                f"{model_id} was never free in this registry; `catalog models --all` lists the known ids"
            )
    for row in rows:
        row["providers"] = list(row["providers"])
    return rows
