"""Health samples and probe results read back: each model's health as of a time, and one model's
samples. Plain SQL (catalog.registry.sql), so the query commands read them without SQLAlchemy.

Times that decide anything here come from the registry (the newest sample), never from the
clock, so the same registry always gives the same health.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from catalog.availability.health import MEASURED
from catalog.registry import account_reads, sql
from catalog.state import ModelHealth, ProbeRecord
from catalog.times import format_time, parse_time

if TYPE_CHECKING:
    from catalog.registry.sql import AnyConnection

WINDOW = timedelta(days=7)  # the availability window, back from the newest sample
MIN_KNOWN_SAMPLES = 12  # fewer known samples in the window: availability is not shown
PENDING = "pending"  # a probe reserved against the budget, not finished (or killed mid-call)

# Models with no sample and no probe share one immutable value per access (50,000 of them cost
# ~1.2 s as separate dataclasses.replace() copies).
ACCOUNT_ONLY = {access: ModelHealth(account=access) for access in (account_reads.USABLE, account_reads.BLOCKED)}
SAMPLE_COLUMNS = ("model_id", *MEASURED, "sampled_at", "error")
PROBE_COLUMNS = "model_id, outcome, probed_at, http_status, ttft_ms, total_ms, detail"


def newest_sample_time(conn: AnyConnection, at: datetime | None = None) -> datetime | None:
    bound, params = sql.up_to("sampled_at", at)
    newest = sql.scalar(conn, f"SELECT max(sampled_at) FROM health_checks WHERE {bound}", params)
    return None if newest is None else parse_time(newest)


def latest_probes(conn: AnyConnection, at: datetime | None = None) -> dict[str, ProbeRecord]:
    """Each model's newest finished probe (up to `at`)."""
    bound, params = sql.up_to("probed_at", at)
    params["pending"] = PENDING
    newest = f"SELECT max(id) FROM probes WHERE outcome != :pending AND {bound}"
    found = sql.rows(conn, f"SELECT {PROBE_COLUMNS} FROM probes WHERE id IN ({newest} GROUP BY model_id)", params)
    return {row[0]: probe_record(row) for row in found}


def probe_record(row: Sequence[Any]) -> ProbeRecord:
    model_id, outcome, probed_at, http_status, ttft_ms, total_ms, detail = row
    return ProbeRecord(model_id, outcome, parse_time(probed_at), http_status, ttft_ms, total_ms, detail)


def load_health(conn: AnyConnection, at: datetime | None = None) -> tuple[dict[str, ModelHealth], datetime | None]:
    """model id -> its health as of `at` (default: the newest data), and the time that is."""
    newest = newest_sample_time(conn, at)
    probed = latest_probes(conn, at)
    result: dict[str, ModelHealth] = {}
    if newest is not None:
        latest = "SELECT max(id) FROM health_checks WHERE sampled_at <= :newest GROUP BY model_id"
        window = window_counts(conn, newest - WINDOW, newest)
        loads = sql.json_decoder(conn)
        statement = f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM health_checks WHERE id IN ({latest})"
        for row in sql.rows(conn, statement, {"newest": format_time(newest)}):
            available, known = window.get(row[0], (0, 0))
            result[row[0]] = ModelHealth(
                **sample_fields(row, loads),
                available_7d=available,
                known_7d=known,
                availability_7d=round(available / known, 4) if known >= MIN_KNOWN_SAMPLES else None,
                last_probe=probed.get(row[0]),
            )
    for model_id, probe in probed.items():
        if model_id not in result:
            result[model_id] = ModelHealth(last_probe=probe)
    for model_id, access in account_reads.access_at(conn, at).items():
        measured = result.get(model_id)
        result[model_id] = ACCOUNT_ONLY[access] if measured is None else replace(measured, account=access)
    times = [t for t in (newest, max((p.at for p in probed.values()), default=None)) if t is not None]
    return result, max(times, default=None)


def sample_fields(row: Sequence[Any], loads: Callable[[Any], Any]) -> dict[str, Any]:
    """A row of SAMPLE_COLUMNS -> ModelHealth's sample fields (all but the model id)."""
    fields = dict(zip(SAMPLE_COLUMNS[1:], row[1:], strict=True))
    fields["providers"] = tuple(loads(fields["providers"]) or ())
    fields["sampled_at"] = parse_time(fields["sampled_at"])
    return fields


def window_counts(conn: AnyConnection, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """model id -> (samples up or degraded, samples with a known state) in [start, end]."""
    found = sql.rows(
        conn,
        "SELECT model_id, count(*) FILTER (WHERE state IN ('up', 'degraded')),"
        " count(*) FILTER (WHERE state != 'unknown')"
        " FROM health_checks WHERE sampled_at >= :start AND sampled_at <= :end GROUP BY model_id",
        {"start": format_time(start), "end": format_time(end)},
    )
    return {mid: (available, known) for mid, available, known in found}


def samples_of(conn: AnyConnection, model_id: str, since: datetime | None = None) -> list[dict[str, Any]]:
    """One model's samples, oldest first."""
    params: dict[str, Any] = {"model_id": model_id}
    statement = f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM health_checks WHERE model_id = :model_id"
    if since is not None:
        statement += " AND sampled_at >= :since"
        params["since"] = format_time(since)
    loads = sql.json_decoder(conn)
    return [
        {"model_id": row[0], **sample_fields(row, loads)} for row in sql.rows(conn, statement + " ORDER BY id", params)
    ]
