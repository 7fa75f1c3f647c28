"""The health job: a sample of every free model's endpoints (after a sync, or on its own with
`catalog health --refresh`), stored as history. It cannot fail a sync: the caller makes its error a note.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.availability import healthcheck
from catalog.availability.health import counts
from catalog.errors import CatalogError
from catalog.output.refresh import render_after
from catalog.registry import health_store, reads
from catalog.registry.db import read_connection, registry_exists, writer
from catalog.settings import Settings
from catalog.times import now_utc_seconds

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine


@dataclass
class HealthResult:
    counts: dict[str, int]
    failed: int  # calls that failed (a router's `unknown` is not a failure)
    seconds: float
    written: list[Path] = field(default_factory=list)
    render_error: str | None = None

    def summary(self) -> str:
        c = self.counts
        line = f"health: {c['up']} up, {c['degraded']} degraded, {c['down']} down, {c['unknown']} unknown"
        if self.failed:
            line += f" ({self.failed} call{'s' if self.failed != 1 else ''} failed)"
        return line


def free_model_count(db: str) -> int | None:
    """How many models a health sample will ask about (for progress); None without a registry."""

    if not registry_exists(db):
        return None
    try:
        with read_connection(db) as conn:
            return len(reads.free_ids(conn))
    except CatalogError:  # an older schema: the refresh upgrades it and says what else is wrong
        return None


def record_health(
    engine: Engine,
    settings: Settings,
    run_id: int | None,
    *,
    transport: httpx.BaseTransport | None = None,
    on_sample: Callable[[], None] | None = None,
) -> HealthResult:
    """Sample every model free now and store the samples (one transaction); prune old ones.
    `on_sample()`, when given, is called after each model (from the sampling threads, one at a time)."""
    clock = time.perf_counter()
    with engine.connect() as conn:
        ids = reads.free_ids(conn)
    samples = healthcheck.sample_models(
        ids,
        api_url=settings.api_url,
        api_key=settings.api_key,
        timeout=settings.health_timeout,
        concurrency=settings.health_concurrency,
        transport=transport,
        on_done=one_at_a_time(on_sample),
    )
    sampled_at = now_utc_seconds()
    with engine.begin() as conn:
        health_store.insert_samples(conn, samples, sampled_at, run_id)
        health_store.prune_samples(conn, sampled_at - settings.health_keep)
    failed = sum(1 for s in samples if s.failed)
    return HealthResult(counts(samples), failed, time.perf_counter() - clock)


def one_at_a_time(callback: Callable[[], None] | None) -> Callable[..., None] | None:
    """The callback, serialized across threads; None stays None (no per-item work)."""
    if callback is None:
        return None
    lock = threading.Lock()

    def call(*_args: object) -> None:
        with lock:
            callback()

    return call


def refresh_health(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    on_sample: Callable[[], None] | None = None,
) -> HealthResult:
    """`catalog health --refresh`: one sample without a catalog sync, under the sync lock."""

    if not registry_exists(settings.db):
        raise CatalogError(f"no registry at {settings.db}; run `catalog sync` first")
    with writer(settings.db, wait=settings.lock_wait, purpose="health refresh") as engine:
        result = record_health(engine, settings, None, transport=transport, on_sample=on_sample)
        if settings.render:
            render_after(engine, settings, result)
    return result
