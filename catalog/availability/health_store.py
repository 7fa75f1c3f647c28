"""Health samples and probe results in the registry: writes, pruning, the daily probe budget, and
the reads that pools, render and queries need. Set-based statements, as in `store`.

Times that decide anything here come from the registry (the newest sample), never from the
clock, so the same registry always gives the same health; only the probe budget counts the
calendar day, because OpenRouter's quota does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, func, insert, select, text, update

from catalog.availability.health import Sample
from catalog.registry.schema import HealthCheck, Probe
from catalog.state import ModelHealth, ProbeRecord

checks, probes = HealthCheck.__table__, Probe.__table__

WINDOW = timedelta(days=7)  # the availability window, back from the newest sample
MIN_KNOWN_SAMPLES = 12  # fewer known samples in the window: availability is not shown
PENDING = "pending"  # a probe reserved against the budget, not finished (or killed mid-call)
UP_STATES = ("up", "degraded")


# ---------------------------------------------------------------- writing


def insert_samples(conn, samples: Iterable[Sample], sampled_at: datetime, run_id: int | None) -> None:
    rows = [
        {
            "sampled_at": sampled_at,
            "run_id": run_id,
            "model_id": s.model_id,
            "state": s.state,
            "status": s.status,
            "endpoints": s.endpoints,
            "providers": list(s.providers) if s.endpoints is not None else None,
            "uptime_5m": s.uptime_5m,
            "uptime_30m": s.uptime_30m,
            "uptime_1d": s.uptime_1d,
            "latency_p50_ms": s.latency_p50_ms,
            "latency_p90_ms": s.latency_p90_ms,
            "throughput_p50": s.throughput_p50,
            "error": s.error,
        }
        for s in samples
    ]
    if rows:
        conn.execute(insert(checks), rows)


def prune_samples(conn, before: datetime) -> int:
    return conn.execute(checks.delete().where(checks.c.sampled_at < before)).rowcount


def lock_probes(conn) -> None:
    """Serialize budget checks across processes. SQLite writers already are (BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE probes IN SHARE ROW EXCLUSIVE MODE"))


def probes_since(conn, since: datetime) -> int:
    """Probes sent (or in flight) since a time: what counts against the daily budget."""
    return conn.execute(select(func.count()).select_from(probes).where(probes.c.probed_at >= since)).scalar() or 0


def probed_since(conn, since: datetime) -> set[str]:
    """The models probed (or being probed) since a time."""
    return set(conn.execute(select(probes.c.model_id).where(probes.c.probed_at >= since)).scalars())


def reserve_probe(conn, model_id: str, at: datetime, day_start: datetime, budget: int) -> int | None:
    """A pending probe row when today's count is under the budget; None when it is used up.
    Called in its own transaction, so two processes can never both take the last slot."""
    lock_probes(conn)
    if probes_since(conn, day_start) >= budget:
        return None
    row = {"probed_at": at, "model_id": model_id, "outcome": PENDING}
    return conn.execute(insert(probes).values(**row)).inserted_primary_key[0]


def finish_probe(conn, probe_id: int, record: ProbeRecord) -> None:
    conn.execute(
        update(probes)
        .where(probes.c.id == probe_id)
        .values(outcome=record.outcome, http_status=record.http_status, ttft_ms=record.ttft_ms,
                total_ms=record.total_ms, detail=record.detail)
    )


# ---------------------------------------------------------------- reading


def newest_sample_time(conn, at: datetime | None = None) -> datetime | None:
    query = select(func.max(checks.c.sampled_at))
    if at is not None:
        query = query.where(checks.c.sampled_at <= at)
    return conn.execute(query).scalar()


def latest_probes(conn, at: datetime | None = None) -> dict[str, ProbeRecord]:
    """Each model's newest finished probe (up to `at`)."""
    newest = select(func.max(probes.c.id)).where(probes.c.outcome != PENDING)
    if at is not None:
        newest = newest.where(probes.c.probed_at <= at)
    rows = conn.execute(select(probes).where(probes.c.id.in_(newest.group_by(probes.c.model_id)))).all()
    return {row.model_id: probe_record(row) for row in rows}


def probe_record(row: Any) -> ProbeRecord:
    return ProbeRecord(row.model_id, row.outcome, row.probed_at, row.http_status, row.ttft_ms, row.total_ms, row.detail)


def load_health(conn, at: datetime | None = None) -> tuple[dict[str, ModelHealth], datetime | None]:
    """model id -> its health as of `at` (default: the newest data), and the time that is."""
    newest = newest_sample_time(conn, at)
    probed = latest_probes(conn, at)
    result: dict[str, ModelHealth] = {}
    if newest is not None:
        latest = select(func.max(checks.c.id)).where(checks.c.sampled_at <= newest).group_by(checks.c.model_id)
        window = window_counts(conn, newest - WINDOW, newest)
        for row in conn.execute(select(checks).where(checks.c.id.in_(latest))):
            available, known = window.get(row.model_id, (0, 0))
            result[row.model_id] = ModelHealth(
                **sample_fields(row),
                available_7d=available,
                known_7d=known,
                availability_7d=round(available / known, 4) if known >= MIN_KNOWN_SAMPLES else None,
                last_probe=probed.get(row.model_id),
            )
    for model_id, probe in probed.items():
        if model_id not in result:
            result[model_id] = ModelHealth(last_probe=probe)
    times = [t for t in (newest, max((p.at for p in probed.values()), default=None)) if t is not None]
    return result, max(times, default=None)


def sample_fields(row: Any) -> dict[str, Any]:
    return {
        "state": row.state,
        "status": row.status,
        "endpoints": row.endpoints,
        "providers": tuple(row.providers or ()),
        "uptime_5m": row.uptime_5m,
        "uptime_30m": row.uptime_30m,
        "uptime_1d": row.uptime_1d,
        "latency_p50_ms": row.latency_p50_ms,
        "latency_p90_ms": row.latency_p90_ms,
        "throughput_p50": row.throughput_p50,
        "sampled_at": row.sampled_at,
        "error": row.error,
    }


def window_counts(conn, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """model id -> (samples up or degraded, samples with a known state) in [start, end]."""
    rows = conn.execute(
        select(
            checks.c.model_id,
            func.count().filter(checks.c.state.in_(UP_STATES)),
            func.count().filter(checks.c.state != "unknown"),
        )
        .where(and_(checks.c.sampled_at >= start, checks.c.sampled_at <= end))
        .group_by(checks.c.model_id)
    ).all()
    return {mid: (available, known) for mid, available, known in rows}


def samples_of(conn, model_id: str, since: datetime | None = None) -> list[dict[str, Any]]:
    """One model's samples, oldest first."""
    query = select(checks).where(checks.c.model_id == model_id)
    if since is not None:
        query = query.where(checks.c.sampled_at >= since)
    return [{"model_id": row.model_id, **sample_fields(row)} for row in conn.execute(query.order_by(checks.c.id))]
