"""One sync at a time across hosts on PostgreSQL: a session advisory lock.

The lock belongs to one server backend, so it is taken on the one connection that then does every
write of the sync (migrations, the run, the failed-run row) and the reads of its render. That
connection is never replaced: no pool pre-ping, no reconnect (a new connection would land on a
backend that does not hold the lock); losing it ends the sync. Each transaction first checks that
its backend still holds the lock. The server frees the lock when the backend ends, however its
client died (for a vanished host: after TCP keepalives give up, see catalog.registry.pgconnect).

The key is derived from the database and schema, so two registries on one server never share it.
The holder is named from `pg_locks` joined to `pg_stat_activity.application_name`, which each
writer sets to e.g. `catalog sync host:pid since 2026-01-24T08:00:00Z`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from datetime import UTC
from typing import TYPE_CHECKING, Any

from catalog.errors import LockedError, RegistryError
from catalog.registry import pgconnect
from catalog.times import format_time

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import Connection, Engine

    PgConnection = psycopg.Connection[tuple[Any, ...]]

log = logging.getLogger("catalog")

# First half of the two-int key: "catalog" (so other applications' advisory locks never collide).
NAMESPACE = int.from_bytes(hashlib.sha256(b"catalog").digest()[:4], "big") & 0x7FFFFFFF
HELD = (
    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
    "AND classid = %s AND objid = %s AND objsubid = 2"
)
HOLDER = (
    "SELECT a.application_name, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def application_name(purpose: str) -> str:
    """`catalog sync host:pid since 2026-01-24T08:00:00Z`, within PostgreSQL's 63 bytes."""
    from datetime import datetime

    tail = f":{os.getpid()} since {format_time(datetime.now(UTC))}"
    head = f"catalog {purpose} "
    host = socket.gethostname()[: max(1, 63 - len(head) - len(tail))]
    return (head + host + tail).encode()[:63].decode(errors="ignore")


def lock_key(conn: PgConnection) -> int:
    """Second half of the key: the database and schema this connection writes to."""
    with conn.cursor() as cur:
        cur.execute("SELECT current_database(), current_schema()")
        row = cur.fetchone()
    assert row is not None  # a SELECT without FROM returns its one row
    database, schema = row
    digest = hashlib.sha256(f"{database}\0{schema}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def holder(conn: PgConnection, key: int) -> str:
    """` (catalog sync host:pid since …)` for messages; the backend pid when the name is hidden."""
    with conn.cursor() as cur:
        cur.execute(HOLDER, (NAMESPACE, key))
        row = cur.fetchone()
    conn.rollback()
    if row is None:
        return ""
    name, pid = row
    return f" ({name})" if name else f" (server backend {pid})"


def acquire(conn: PgConnection, key: int, wait: float | None) -> None:
    """Take the lock on `conn` or raise LockedError (exit 75) naming the holder."""
    from psycopg import errors as pgerrors

    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, key))
        row = cur.fetchone()
        assert row is not None  # a SELECT without FROM returns its one row
        taken = row[0]
    conn.commit()  # a session lock outlives the transaction that took it
    if taken:
        return
    who = holder(conn, key)
    if not wait:
        raise LockedError(f"another sync is running{who}; try again later or pass --wait SECONDS")
    log.info("waiting up to %g s for another sync to finish%s", wait, who)
    try:
        with conn.cursor() as cur:
            # Local to this transaction: the sync's own statements never inherit the timeout.
            cur.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, int(wait * 1000))}ms",))
            cur.execute("SELECT pg_advisory_lock(%s, %s)", (NAMESPACE, key))
        conn.commit()
    except pgerrors.LockNotAvailable:
        conn.rollback()
        raise LockedError(
            f"another sync is still running after {wait:g} s{holder(conn, key)}; try again later or pass a longer --wait"
        ) from None


def locked_engine(url: str, where: str, *, wait: float | None, purpose: str) -> Engine:
    """A SQLAlchemy engine over one connection that holds the registry's advisory lock."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    conn = pgconnect.connect(url, application_name=application_name(purpose), where=where)
    try:
        key = lock_key(conn)
        acquire(conn, key, wait)
    except BaseException:
        conn.close()
        raise
    handed_out = False

    def creator() -> PgConnection:
        nonlocal handed_out
        if handed_out:  # the pool lost the connection: a new one would not hold the lock
            raise RegistryError(
                f"lost the connection to {where} that held the sync lock; nothing more was written, run it again"
            )
        handed_out = True
        return conn

    engine = create_engine("postgresql+psycopg://", creator=creator, poolclass=StaticPool)

    @event.listens_for(engine, "begin")
    def still_held(sa_conn: Connection) -> None:
        if sa_conn.exec_driver_sql(HELD, (NAMESPACE, key)).first() is None:
            raise RegistryError(
                f"this sync no longer holds the lock on {where}; nothing more was written, run it again"
            )

    return engine
