"""`catalog status`: the newest ok and failed runs, failures since, health counts, the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from catalog.registry import account_reads, health_store
from catalog.registry.db import read_connection
from catalog.registry.health_reads import load_health
from catalog.registry.locations import describe
from catalog.registry.reads import free_ids
from catalog.registry.schema import Run
from catalog.times import day_start, now_utc
from catalog.watch.notify import outbox_counts

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

OK_COLUMNS = (
    "id",
    "started_at",
    "finished_at",
    "duration_ms",
    "observed_at",
    "clock_at",
    "source",
    "catalog_size",
    "free_count",
    "added",
    "returned",
    "removed",
    "changed",
    "skipped",
)
FAILED_COLUMNS = ("id", "started_at", "finished_at", "duration_ms", "source", "error")


def read_status(db: str) -> dict[str, Any]:
    """The newest ok and failed runs, and how many failures followed the newest ok one."""
    runs = Run.__table__

    def newest(conn: Connection, status: str, columns: tuple[str, ...]) -> dict[str, Any] | None:
        query = (
            select(*(runs.c[name] for name in columns))
            .where(runs.c.status == status)
            .order_by(runs.c.id.desc())
            .limit(1)
        )
        row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    with read_connection(db) as conn:
        last_ok = newest(conn, "ok", OK_COLUMNS)
        last_failed = newest(conn, "failed", FAILED_COLUMNS)
        failing = select(func.count()).select_from(runs).where(runs.c.status == "failed")
        if last_ok:
            failing = failing.where(runs.c.id > last_ok["id"])
        failures = conn.execute(failing).scalar_one()
        health = health_counts(conn)
        account = account_status(conn)
        notifications = outbox_counts(conn)
    return {
        "registry": describe(db),
        "clock_skew_seconds": clock_skew(last_ok),
        "last_ok": last_ok,
        "last_failed": last_failed,
        "failures_since_ok": failures,
        "free_count": last_ok["free_count"] if last_ok else None,
        **health,
        "account": account,
        "notifications": notifications,
    }


def health_counts(conn: Connection) -> dict[str, Any]:
    """Free models by latest health state, and probes sent since 00:00 UTC (the quota's day)."""
    latest, _ = load_health(conn)
    states = dict.fromkeys(("up", "degraded", "down", "unknown"), 0)
    for model_id in free_ids(conn):
        states[latest[model_id].state if model_id in latest else "unknown"] += 1
    return {"health": states, "probes_today": health_store.probes_since(conn, day_start(now_utc()))}


def account_status(conn: Connection) -> dict[str, Any] | None:
    """The free-model requests left at the newest reading of /key and when it was read, and the
    free models blocked for the account at the newest sync; None when no sync has read them."""
    quota = account_reads.free_requests(conn)
    access = account_reads.access_at(conn)
    if quota is None and not access:
        return None
    return {
        "free_requests_left": quota["left"] if quota else None,
        "free_requests_limit": quota["limit"] if quota else None,
        "read_at": quota["read_at"] if quota else None,
        "blocked": sum(1 for a in access.values() if a == account_reads.BLOCKED) if access else None,
    }


def clock_skew(run: dict[str, Any] | None) -> int | None:
    """Seconds the syncing host's clock was behind the registry at that run (0: none; None: unknown)."""
    if not run or run.get("clock_at") is None:
        return None
    return max(0, int((run["observed_at"] - run["clock_at"]).total_seconds()))
