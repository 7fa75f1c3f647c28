"""Notifications through an outbox in the registry.

- Enqueue: in the same transaction as the sync's writes, one row per configured target whose
  event kinds the run matched (a digest), or, for a failed run that starts a streak of failures,
  one alert per `on_failure` target. So a stored sync always has its digests and a rolled-back one
  never does; the unique (target, run, kind) key makes a second enqueue impossible.
- Deliver: after the sync, each target's pending rows oldest first, under the registry lock and
  each within the target's timeout. A row becomes `delivered` only once the target accepted it (2xx, or
  Apprise's success), in its own transaction, and only from `pending`, so it is never sent again;
  a failure keeps it pending for the next syncs until it is older than max_age (`expired`).
  Two narrow gaps are left, a crash between the target's answer and that commit, and a target
  that takes a message only after its timeout cut the call off: the row is then sent again, with
  the same body and X-Catalog-Delivery header (a UUID made with the message, in its body), which a
  receiver can use to drop it.
- The first successful sync of a registry is a baseline (nothing sent); a target added later
  gets rows only from the syncs after it was added, since rows are only ever made at sync time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from catalog.config.watch import NotifyConfig, Target
from catalog.registry.reads import load_events
from catalog.registry.schema import Notification, Run
from catalog.times import now_utc
from catalog.watch.notify_send import Message, RunFacts, delivery_id, digest, failure, send

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("catalog.notify")
outbox, runs = Notification.__table__, Run.__table__


@dataclass(frozen=True)
class Delivery:
    target: str  # the target's label (URL redacted)
    notification_id: int
    run_id: int
    kind: str
    error: str | None  # None: delivered


def run_facts(conn: Connection, run_id: int) -> RunFacts:
    row = conn.execute(select(runs.c.observed_at, runs.c.source, runs.c.free_count).where(runs.c.id == run_id)).one()
    return RunFacts(run_id, row.observed_at, row.source, row.free_count)


def enqueue_digests(conn: Connection, config: NotifyConfig, run_id: int) -> int:
    """Inside the sync's transaction: one digest per target with matching events; none for a baseline."""
    if not config.targets:
        return 0
    earlier = conn.execute(
        select(func.count()).select_from(runs).where(runs.c.status == "ok", runs.c.id < run_id)
    ).scalar_one()
    if not earlier:
        return 0  # the first successful sync describes what exists, not what changed
    records = load_events(conn, of_run=run_id)
    if not records:
        return 0
    run = run_facts(conn, run_id)
    made = 0
    for target in config.targets:
        matching = [e for e in records if e.kind in target.events]
        if matching:
            insert_row(conn, target, run_id, "digest", digest(target, run, matching))
            made += 1
    return made


def enqueue_failure(conn: Connection, config: NotifyConfig, run_id: int, error: str) -> int:
    """Inside the failed run's transaction: an alert for each on_failure target, unless the run
    before it failed too (one alert per streak of failed runs)."""
    targets = [t for t in config.targets if t.on_failure]
    if not targets:
        return 0
    before = conn.execute(select(runs.c.status).where(runs.c.id < run_id).order_by(runs.c.id.desc()).limit(1)).scalar()
    if before == "failed":
        return 0
    run = run_facts(conn, run_id)
    for target in targets:
        insert_row(conn, target, run_id, "failure", failure(target, run, error))
    return len(targets)


def insert_row(conn: Connection, target: Target, run_id: int, kind: str, message: Message) -> None:
    conn.execute(
        insert(outbox).values(
            target_id=target.id,
            target_kind=target.kind,
            kind=kind,
            run_id=run_id,
            created_at=now_utc(),
            title=message.title,
            body=message.body,
            status="pending",
            attempts=0,
        )
    )


def deliver_pending(
    engine: Engine, config: NotifyConfig, transport: httpx.BaseTransport | None = None
) -> list[Delivery]:
    """Send what waits, target by target, each delivery within the target's timeout; a target
    stops at its first failure, so a dead target costs one timeout per sync."""
    results: list[Delivery] = []
    if not config.targets:
        return results
    expire_old(engine, config)
    for target in config.targets:
        with engine.connect() as conn:
            pending = conn.execute(
                select(outbox.c.id, outbox.c.run_id, outbox.c.kind, outbox.c.title, outbox.c.body)
                .where(outbox.c.status == "pending", outbox.c.target_id == target.id)
                .order_by(outbox.c.id)
            ).all()
        for row in pending:
            error = send(
                target, Message(row.title, row.body), delivery=delivery_id(row.body, str(row.id)), transport=transport
            )
            mark(engine, row.id, error)
            results.append(Delivery(target.label, row.id, row.run_id, row.kind, error))
            if error is not None:
                log.warning(
                    "notification %s of run #%d to %s not delivered (stays pending): %s",
                    row.kind,
                    row.run_id,
                    target.label,
                    error,
                )
                break
    return results


def mark(engine: Engine, notification_id: int, error: str | None) -> None:
    now = now_utc()
    values = {"attempts": outbox.c.attempts + 1, "last_attempt_at": now}
    values.update(
        {"status": "delivered", "delivered_at": now, "last_error": None} if error is None else {"last_error": error}
    )
    with engine.begin() as conn:
        conn.execute(
            update(outbox).where(outbox.c.id == notification_id, outbox.c.status == "pending").values(**values)
        )


def expire_old(engine: Engine, config: NotifyConfig) -> int:
    """Pending rows older than max_age are given up (kept, as `expired`, for `catalog status`)."""
    cutoff = now_utc() - config.max_age
    with engine.begin() as conn:
        done = conn.execute(
            update(outbox).where(outbox.c.status == "pending", outbox.c.created_at < cutoff).values(status="expired")
        )
    if done.rowcount:
        log.warning("%d notification(s) not delivered within %s were given up", done.rowcount, config.max_age)
    return done.rowcount or 0


def pending_rows(conn: Connection, config: NotifyConfig) -> list[dict[str, Any]]:
    """What waits, oldest first, with each target's label (or its id, once it left the config)."""
    labels = {t.id: t.label for t in config.targets}
    query = (
        select(outbox, runs.c.observed_at).join(runs, runs.c.id == outbox.c.run_id).where(outbox.c.status == "pending")
    )
    return [
        {
            "id": row.id,
            "target": labels.get(row.target_id, f"{row.target_kind} {row.target_id} (no longer configured)"),
            "kind": row.kind,
            "run_id": row.run_id,
            "observed_at": row.observed_at,
            "created_at": row.created_at,
            "attempts": row.attempts,
            "last_error": row.last_error,
        }
        for row in conn.execute(query.order_by(outbox.c.id))
    ]


def outbox_counts(conn: Connection) -> dict[str, Any]:
    """For `catalog status`: how many wait (and of those, how many failed at least once), how many
    were given up, and the newest failure."""
    counts: dict[str, int] = dict(conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all())
    failing = conn.execute(
        select(func.count()).select_from(outbox).where(outbox.c.status == "pending", outbox.c.attempts > 0)
    ).scalar_one()
    last = conn.execute(
        select(outbox.c.target_kind, outbox.c.target_id, outbox.c.last_error, outbox.c.last_attempt_at)
        .where(outbox.c.last_error.is_not(None), outbox.c.status != "delivered")
        .order_by(outbox.c.last_attempt_at.desc(), outbox.c.id.desc())
        .limit(1)
    ).first()
    return {
        "pending": counts.get("pending", 0),
        "failing": failing,
        "expired": counts.get("expired", 0),
        "delivered": counts.get("delivered", 0),
        "last_error": None
        if last is None
        else {"target": f"{last.target_kind} {last.target_id}", "error": last.last_error, "at": last.last_attempt_at},
    }
