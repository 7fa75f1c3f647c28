"""One answer into the registry, shared by sync and import: its digest, the observed time it is
recorded at, the diff (refusing a mass removal) and the store, inside the caller's transaction;
and the row of a run that failed. SyncResult is what a stored answer (and then a sync) reports."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.errors import CatalogError, MassRemovalError, UsageError
from catalog.events import counts_sentence, no_changes
from catalog.ingest.diff import Change, Diff, compute, is_mass_removal
from catalog.ingest.entries import read_catalog
from catalog.ingest.normalize import Catalog
from catalog.registry import reads, store
from catalog.times import format_time, now_utc
from catalog.watch.notify import enqueue_failure

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from catalog.config.watch import NotifyConfig
    from catalog.jobs.account import AccountResult
    from catalog.jobs.health import HealthResult
    from catalog.jobs.probe import ProbeRun
    from catalog.watch.notify import Delivery

log = logging.getLogger("catalog.sync")


@dataclass
class SyncResult:
    run_id: int | None  # None for a dry run
    observed_at: datetime
    catalog_size: int
    free_count: int
    counts: dict[str, int]
    skipped: int
    seconds: float
    changes: list[Change] = field(default_factory=list)
    unchanged_answer: bool = False  # same bytes as the previous successful sync
    dry_run: bool = False
    render_error: str | None = None
    written: list[Path] = field(default_factory=list)
    health: HealthResult | None = None  # after an HTTP sync with health on
    probes: ProbeRun | None = None  # with --probe
    account: AccountResult | None = None  # the account's own view, read with the key
    notes: list[str] = field(default_factory=list)  # health or probe steps that could not run
    deliveries: list[Delivery] = field(default_factory=list)  # one per message tried

    def summary(self) -> str:
        c = self.counts
        line = f"{self.catalog_size} models, {self.free_count} free: {counts_sentence(c)}"
        if self.skipped:
            line += f", {self.skipped} entries skipped"
        if self.dry_run:
            line += " [dry run: nothing written]"
        line = f"{line} ({self.seconds:.1f} s)"
        for step in (self.account, self.health, self.probes):
            if step is not None:
                line += f"; {step.summary()}"
        if self.deliveries:
            failed = sum(d.error is not None for d in self.deliveries)
            line += f"; {len(self.deliveries) - failed} notification(s) sent" + (
                f", {failed} failed (pending)" if failed else ""
            )
        return line


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def settle_observed(
    observed: datetime, last_ok: reads.RunInfo | None, *, live: bool
) -> tuple[datetime, datetime | None]:
    """(observed time to record, the host's clock reading to keep) for a sync.

    Hosts' clocks disagree by seconds, and one clock can step back. A live sync is never refused
    for that: when its clock reads earlier than the newest stored run, it is recorded at that run's
    time, with its own reading kept beside it and one warning. An explicit time stays checked."""
    if not live:
        check_observed(observed, last_ok)
        return observed, None
    if last_ok is not None and observed < last_ok.observed_at:
        behind = int((last_ok.observed_at - observed).total_seconds())
        log.warning(
            "this host's clock (%s) is %d s behind the newest run in the registry; the run is recorded at %s",
            format_time(observed),
            behind,
            format_time(last_ok.observed_at),
        )
        return last_ok.observed_at, observed
    return observed, observed


def check_observed(observed: datetime, last_ok: reads.RunInfo | None) -> None:
    """History only grows forward from the newest successful run (a failed one stores nothing)."""
    if last_ok is not None and observed < last_ok.observed_at:
        raise UsageError(
            f"observed time {format_time(observed)} is earlier than the newest successful run in the registry "
            f"({format_time(last_ok.observed_at)}); backfill into a new registry, oldest first"
        )


def diff_answer(catalog: Catalog, state: reads.RegistryState, allow_mass_removal: bool) -> Diff:
    diff = compute(state.previous_free, state.last_known, catalog)
    for skipped in catalog.skipped:
        log.warning("skipped entry #%d%s: %s", skipped.index, f" ({skipped.id})" if skipped.id else "", skipped.reason)
    removed = len(diff.removed)
    if not allow_mass_removal and is_mass_removal(len(state.previous_free), removed):
        raise MassRemovalError(
            f"this answer would remove {removed} of the {len(state.previous_free)} free models at once; "
            "it looks like a bad answer, so nothing was stored (pass --allow-mass-removal if it is real)"
        )
    return diff


def store_answer(
    conn: Connection,
    *,
    body: bytes = b"",
    source: str,
    observed: datetime,
    started: datetime,
    allow_mass_removal: bool,
    live: bool = False,
    parsed: tuple[str, Catalog | CatalogError | None] | None = None,
) -> SyncResult:
    """Diff one answer against the registry and store it, inside the caller's transaction.
    `live`: `observed` is this host's clock, not a time the caller chose (see settle_observed).
    `parsed`: the body's digest and its normalized catalog (or the error), worked out ahead (the
    body is then not read); the catalog may be None when the digest is the newest successful run's."""
    clock = time.perf_counter()
    last = reads.last_ok_run(conn)
    observed, clock_at = settle_observed(observed, last, live=live)
    digest = parsed[0] if parsed else payload_hash(body)
    if last is not None and last.payload_hash == digest:
        # Byte-identical to the previous successful answer: the same state, so only a run row.
        run_id = store.insert_run(
            conn,
            started_at=started,
            observed_at=observed,
            source=source,
            status="ok",
            catalog_size=last.catalog_size,
            free_count=last.free_count,
            skipped=last.skipped,
            payload_hash=digest,
            clock_at=clock_at,
        )
        store.mark_seen(conn, observed)
        store.finish_run(conn, run_id, now_utc(), started)
        counts = no_changes()
        return SyncResult(
            run_id,
            observed,
            last.catalog_size or 0,
            last.free_count or 0,
            counts,
            last.skipped,
            time.perf_counter() - clock,
            unchanged_answer=True,
        )
    catalog = parsed[1] if parsed else read_catalog(body, paid_as_ids=True)
    if isinstance(catalog, CatalogError):
        raise catalog
    # None only stands for the newest successful run's digest, which returned above.
    assert catalog is not None
    diff = diff_answer(catalog, reads.load_state(conn), allow_mass_removal)
    counts = diff.counts
    run_id = store.insert_run(
        conn,
        started_at=started,
        observed_at=observed,
        source=source,
        status="ok",
        catalog_size=catalog.size,
        free_count=diff.free_count,
        skipped=len(catalog.skipped),
        payload_hash=digest,
        clock_at=clock_at,
        **counts,
    )
    store.apply_diff(conn, diff, run_id, observed)
    store.mark_seen(conn, observed)
    store.finish_run(conn, run_id, now_utc(), started)
    return SyncResult(
        run_id,
        observed,
        catalog.size,
        diff.free_count,
        counts,
        len(catalog.skipped),
        time.perf_counter() - clock,
        changes=diff.changes,
    )


def read_unless_unchanged(conn: Connection, body: bytes) -> tuple[str, Catalog | CatalogError | None]:
    """store_answer's `parsed`: the digest, and the catalog (or its error) unless the answer is the
    previous one byte for byte (then store_answer stores a run row only, and nothing is parsed)."""
    digest = payload_hash(body)
    last = reads.last_ok_run(conn)
    if last is not None and last.payload_hash == digest:
        return digest, None
    try:
        return digest, read_catalog(body, paid_as_ids=True)
    except CatalogError as exc:  # raised by store_answer in its turn, as when it parses
        return digest, exc


def record_failure(
    engine: Engine,
    *,
    source: str,
    observed: datetime,
    started: datetime,
    error: str,
    notify: NotifyConfig | None = None,
) -> None:
    """A failed run row, in its own transaction (with its on_failure alerts); the data is untouched."""
    try:
        with engine.begin() as conn:
            run_id = store.insert_run(
                conn, started_at=started, observed_at=observed, source=source, status="failed", error=error
            )
            store.finish_run(conn, run_id, now_utc(), started)
            if notify is not None:
                enqueue_failure(conn, notify, run_id, error)
    except Exception as exc:  # the original failure matters more than this one (and is shown)
        detail = str(getattr(exc, "orig", None) or exc).splitlines()
        log.debug("could not record the failed run: %s", detail[0] if detail else type(exc).__name__)
