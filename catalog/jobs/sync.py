"""One sync: fetch -> normalize -> diff -> store -> measure -> render -> notify, under the registry
lock. Called by the CLI and the daemon (catalog.sync.run_once is its public face)."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING

from catalog.config.loader import load_config
from catalog.errors import CatalogError, RenderError, UsageError
from catalog.gcpause import paused_gc
from catalog.ingest import fetch, secrets
from catalog.ingest.entries import read_catalog
from catalog.jobs import health, probe
from catalog.jobs.account import record_account
from catalog.jobs.record import (
    SyncResult,
    diff_answer,
    read_unless_unchanged,
    record_failure,
    settle_observed,
    store_answer,
)
from catalog.output.refresh import render_snapshot
from catalog.registry import reads
from catalog.registry.db import read_connection, registry_exists, writer
from catalog.registry.engines import registry_error
from catalog.settings import Settings
from catalog.times import now_utc
from catalog.watch import notify as outbox
from catalog.watch.notify import enqueue_digests

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from catalog.config.watch import NotifyConfig
    from catalog.ingest.fetch import Fetched
    from catalog.watch.notify import Delivery

log = logging.getLogger("catalog.sync")


def fetch_answer(settings: Settings, transport: httpx.BaseTransport | None = None) -> Fetched:
    if settings.from_file is not None:
        return fetch.read_file(settings.from_file, max_bytes=settings.max_bytes)
    return fetch.fetch(
        settings.api_url,
        timeout=settings.timeout,
        api_key=settings.api_key,
        max_bytes=settings.max_bytes,
        transport=transport,
    )


def scrubbed(error: CatalogError, settings: Settings) -> CatalogError:
    """The error with the API key (and a URL password) taken out: API text may quote them."""
    text = secrets.scrub(str(error), secrets.secrets_of(settings.api_url, settings.api_key))
    if text == str(error):
        return error
    return type(error)(text)


def notify_config(settings: Settings, result_notes: list[str]) -> NotifyConfig | None:
    """The [notify] targets, or None (with a note) when catalog.toml cannot be read: the sync goes on."""

    try:
        return load_config(settings.config_path).watch.notify
    except CatalogError as exc:
        result_notes.append(f"no notifications: {exc}")
        return None


def deliver_notifications(engine: Engine, notify: NotifyConfig | None) -> list[Delivery]:
    """After the sync is stored (and measured, and rendered) or recorded as failed: a target's
    fault is a log line and its rows stay pending, never the sync's failure."""

    if notify is None or not notify.targets:
        return []
    try:
        return outbox.deliver_pending(engine, notify)
    except Exception as exc:
        log.warning("notifications not sent: %s", type(exc).__name__ if not str(exc) else str(exc).splitlines()[0])
        return []


def measure_availability(
    engine: Engine, settings: Settings, result: SyncResult, transport: httpx.BaseTransport | None = None
) -> None:
    """Health after an HTTP sync, then probes when asked: their failures are notes, never the sync's."""

    if settings.health and settings.from_file is None:
        try:
            result.health = health.record_health(engine, settings, result.run_id, transport=transport)
        except Exception as exc:
            result.notes.append(f"health not recorded: {step_error(exc, settings)}")
    if settings.probe:
        try:
            targets = probe.probe_targets(engine, settings)
            result.probes = probe.run_probes(engine, settings, targets, transport=transport)
        except Exception as exc:
            result.notes.append(f"no probes: {step_error(exc, settings)}")
    for note in result.notes:
        log.warning("%s", note)


def step_error(exc: Exception, settings: Settings) -> str:
    return secrets.exception_line(exc, secrets.secrets_of(settings.api_url, settings.api_key))


def dry_run(settings: Settings, transport: httpx.BaseTransport | None = None) -> SyncResult:
    """What a sync would change, from a read-only look at the registry; writes nothing."""
    clock = time.perf_counter()
    fetched = fetch_answer(settings, transport)
    catalog = read_catalog(fetched.body)
    state, last = reads.RegistryState(set(), {}), None
    if registry_exists(settings.db):
        with read_connection(settings.db) as conn:
            state, last = reads.load_state(conn), reads.last_ok_run(conn)
    observed, _ = settle_observed(
        settings.observed_at or fetched.received_at.replace(microsecond=0), last, live=settings.observed_at is None
    )
    diff = diff_answer(catalog, state, settings.allow_mass_removal)
    return SyncResult(
        None,
        observed,
        catalog.size,
        diff.free_count,
        diff.counts,
        len(catalog.skipped),
        time.perf_counter() - clock,
        changes=diff.changes,
        dry_run=True,
    )


def fetch_and_store(
    engine: Engine,
    settings: Settings,
    started: datetime,
    notify: NotifyConfig | None,
    transport: httpx.BaseTransport | None = None,
) -> SyncResult:
    """Fetch the answer and store it in one transaction. A function of its own so that the answer's
    bytes (88 MB for 50,000 models) are freed on return, before the render allocates its own."""
    fetched = fetch_answer(settings, transport)
    observed = settings.observed_at or fetched.received_at.replace(microsecond=0)
    source = fetched.source
    with engine.begin() as conn:
        parsed = read_unless_unchanged(conn, fetched.body)
        del fetched  # before the store allocates its rows: 355 -> 285 MiB at the peak of 50,000 models
        result = store_answer(
            conn,
            source=source,
            observed=observed,
            started=started,
            allow_mass_removal=settings.allow_mass_removal,
            live=settings.observed_at is None,
            parsed=parsed,
        )
        if notify is not None:  # same transaction: a stored sync always has its digests
            assert result.run_id is not None  # store_answer always stores a run row
            enqueue_digests(conn, notify, result.run_id)
    return result


def run_once(settings: Settings, *, transport: httpx.BaseTransport | None = None) -> SyncResult:
    """One sync under the registry lock. Raises CatalogError after recording a failed run;
    a render failure leaves the stored sync in place and is reported in `render_error`."""
    load_config(settings.config_path)  # a mistake in catalog.toml stops the sync before anything is written
    if settings.dry_run:
        try:
            return dry_run(settings, transport)
        except CatalogError as exc:
            raise scrubbed(exc, settings) from None
    clock = time.perf_counter()
    with writer(settings.db, wait=settings.lock_wait) as engine, paused_gc():
        started = now_utc()  # after the lock: a run's interval is its work, not its queueing
        notes: list[str] = []
        notify = notify_config(settings, notes)
        try:
            result = fetch_and_store(engine, settings, started, notify, transport)
        except UsageError:
            raise
        except Exception as exc:
            error = registry_error(exc, settings.db)
            if not isinstance(error, CatalogError):
                raise
            clean = scrubbed(error, settings)
            record_failure(
                engine,
                source=secrets.redact_url(settings.source),
                observed=settings.observed_at or started.replace(microsecond=0),
                started=started,
                error=str(clean),
                notify=notify,
            )
            deliver_notifications(engine, notify)
            if clean is not error:  # the original, chained under -v, would show the secret
                raise clean from None
            raise error from exc
        result.notes += notes
        result.account = record_account(engine, settings, result.run_id, transport)
        measure_availability(engine, settings, result, transport)
        if settings.render:
            try:
                result.written = render_snapshot(engine, settings)
            except RenderError as exc:
                result.render_error = str(exc)
        result.deliveries = deliver_notifications(engine, notify)
    result.seconds = time.perf_counter() - clock
    return result
