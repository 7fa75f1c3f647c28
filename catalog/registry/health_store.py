"""Health samples and probe results written to the registry: samples, pruning, the daily probe
budget. Set-based statements, as in `store`; the reads are in health_reads. Only the probe budget
counts the calendar day, because OpenRouter's quota does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, text, update

from catalog.availability.health import Sample
from catalog.registry.health_reads import PENDING
from catalog.registry.schema import HealthCheck, Probe
from catalog.state import ProbeRecord

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

checks, probes = HealthCheck.__table__, Probe.__table__


# ---------------------------------------------------------------- writing


def insert_samples(conn: Connection, samples: Iterable[Sample], sampled_at: datetime, run_id: int | None) -> None:
    """Every sample in one statement. The last guard before the columns: a number they cannot hold
    is stored as NULL, so one model's odd answer can never fail the whole sample's insert."""
    rows = [
        {
            "sampled_at": sampled_at,
            "run_id": run_id,
            "model_id": s.model_id,
            "state": s.state,
            "status": _int32(s.status),
            "endpoints": _int32(s.endpoints),
            "providers": list(s.providers) if s.endpoints is not None else None,
            "uptime_5m": _finite(s.uptime_5m),
            "uptime_30m": _finite(s.uptime_30m),
            "uptime_1d": _finite(s.uptime_1d),
            "latency_p50_ms": _finite(s.latency_p50_ms),
            "latency_p90_ms": _finite(s.latency_p90_ms),
            "throughput_p50": _finite(s.throughput_p50),
            "error": s.error,
        }
        for s in samples
    ]
    if rows:
        conn.execute(insert(checks), rows)


INT32 = (-(2**31), 2**31 - 1)  # PostgreSQL's integer; SQLite's INTEGER holds more


def _int32(value: int | None) -> int | None:
    return value if value is not None and INT32[0] <= value <= INT32[1] else None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def prune_samples(conn: Connection, before: datetime) -> int:
    return conn.execute(checks.delete().where(checks.c.sampled_at < before)).rowcount


def lock_probes(conn: Connection) -> None:
    """Serialize budget checks across processes. SQLite writers already are (BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE probes IN SHARE ROW EXCLUSIVE MODE"))


def probes_since(conn: Connection, since: datetime) -> int:
    """Probes sent (or in flight) since a time: what counts against the daily budget."""
    return conn.execute(select(func.count()).select_from(probes).where(probes.c.probed_at >= since)).scalar() or 0


def probed_since(conn: Connection, since: datetime) -> set[str]:
    """The models probed (or being probed) since a time."""
    return set(conn.execute(select(probes.c.model_id).where(probes.c.probed_at >= since)).scalars())


@dataclass(frozen=True)
class KeyQuota:
    """What OpenRouter's /key said, to be shared with every process probing meanwhile: `allowed`
    more requests (remaining minus the reserve), counted from probe row `after` on."""

    allowed: int
    after: int  # the newest probe row id when /key was read (0: none)


def newest_probe_id(conn: Connection) -> int:
    """Marks the moment before /key is read: probes with a larger id may not be in its answer."""
    return conn.execute(select(func.max(probes.c.id))).scalar() or 0


def sent_since_key(conn: Connection, quota: KeyQuota, day_start: datetime) -> int:
    """Probes that /key's answer may not count yet: reserved after it was asked for, or still in
    flight (today's), by any process."""
    newer = (probes.c.id > quota.after) | (probes.c.outcome == PENDING)
    query = select(func.count()).select_from(probes).where(newer, probes.c.probed_at >= day_start)
    return conn.execute(query).scalar() or 0


def reserve_probe(
    conn: Connection, model_id: str, at: datetime, day_start: datetime, budget: int, quota: KeyQuota | None = None
) -> int | str:
    """A pending probe row's id when today's count is under the budget and, with `quota`, the
    probes sent since /key was read leave the reserve untouched; else why not: "budget" or
    "reserve". Called in its own transaction, so two processes can never both take the last slot
    of either: the reserve is shared across processes as the budget is."""
    lock_probes(conn)
    if probes_since(conn, day_start) >= budget:
        return "budget"
    if quota is not None and sent_since_key(conn, quota, day_start) >= quota.allowed:
        return "reserve"
    row = {"probed_at": at, "model_id": model_id, "outcome": PENDING}
    key = conn.execute(insert(probes).values(**row)).inserted_primary_key
    assert key is not None  # a single-row INSERT always has its primary key
    probe_id: int = key[0]
    return probe_id


def finish_probe(conn: Connection, probe_id: int, record: ProbeRecord) -> None:
    conn.execute(
        update(probes)
        .where(probes.c.id == probe_id)
        .values(
            outcome=record.outcome,
            http_status=record.http_status,
            ttft_ms=record.ttft_ms,
            total_ms=record.total_ms,
            detail=record.detail,
        )
    )
