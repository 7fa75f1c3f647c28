"""One sync at a time across hosts on PostgreSQL: an EXCLUSIVE lock on the `sync_lock` table.

Why a table and not an advisory lock: any role may take any advisory key, and every role can read
the keys in `pg_locks`, so a reader that took the key between syncs stopped them all.
`LOCK TABLE … IN EXCLUSIVE MODE` needs UPDATE, DELETE or TRUNCATE on the table, which a reader
role never has; what a reader can take there (ACCESS SHARE, by reading it) does not conflict with
EXCLUSIVE. So a reader can neither take the lock nor keep a writer from taking it.

A table lock lasts until its transaction ends, so it is taken in a transaction left open for the
whole sync on a connection of its own. The sync's writes go through a second connection, and each
write transaction first checks that the lock's backend still holds the lock (by pid and backend
start, so a recycled pid never passes). That connection is never replaced either: losing it ends
the sync. The server frees the lock when the lock's backend ends, however its client died (for a
vanished host: after TCP keepalives give up, see catalog.registry.pgconnect).

The lock comes before migrations, so a database that has no `sync_lock` yet (a new one, or a
registry older than migration 0006) gets it here first, in a short transaction of its own;
migration 0006 then finds it in place.

The holder is named from `pg_locks` joined to `pg_stat_activity.application_name`, which each
writer sets to e.g. `catalog sync host:pid since 2026-01-24T08:00:00Z`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from catalog.errors import LockedError, RegistryError
from catalog.registry import pgconnect
from catalog.times import format_time

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import Connection, Engine

    PgConnection = psycopg.Connection[tuple[Any, ...]]

log = logging.getLogger("catalog")

TABLE = "sync_lock"
# The same table as migration 0006 and catalog.registry.schema.SyncLock make.
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER NOT NULL, CONSTRAINT pk_{TABLE} PRIMARY KEY (id))"
_GRANTED = (
    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'relation' AND l.relation = %(table)s::oid AND l.mode = 'ExclusiveLock' AND l.granted"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
HELD = "SELECT 1" + _GRANTED + " AND l.pid = %(pid)s AND a.backend_start = %(since)s"
HOLDER = "SELECT a.application_name, a.pid" + _GRANTED + " LIMIT 1"


@dataclass(frozen=True)
class Held:
    """Which backend holds the lock on which table: what each write transaction checks."""

    table: int
    pid: int
    since: datetime

    def params(self) -> dict[str, Any]:
        return {"table": self.table, "pid": self.pid, "since": self.since}


def application_name(purpose: str) -> str:
    """`catalog sync host:pid since 2026-01-24T08:00:00Z`, within PostgreSQL's 63 bytes."""
    tail = f":{os.getpid()} since {format_time(datetime.now(UTC))}"
    head = f"catalog {purpose} "
    host = socket.gethostname()[: max(1, 63 - len(head) - len(tail))]
    return (head + host + tail).encode()[:63].decode(errors="ignore")


def ensure_table(conn: PgConnection) -> int:
    """The lock table's oid, creating the table first on a registry that predates it."""
    from psycopg import errors as pgerrors

    if _oid(conn) is None:
        try:
            conn.execute(CREATE)
            conn.commit()
        except (pgerrors.UniqueViolation, pgerrors.DuplicateTable):
            conn.rollback()  # another writer created it at the same moment: theirs will do
    oid = _oid(conn)
    conn.rollback()
    if oid is None:  # only if someone dropped it again in between
        raise RegistryError(f"cannot create the table {TABLE} for the sync lock; run the sync again")
    return oid


def _oid(conn: PgConnection) -> int | None:
    row = conn.execute("SELECT to_regclass(%s)::oid", (TABLE,)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def holder(conn: PgConnection, table: int) -> str:
    """` (catalog sync host:pid since …)` for messages; the backend pid when the name is hidden."""
    row = conn.execute(HOLDER, {"table": table}).fetchone()
    conn.rollback()
    if row is None:
        return ""
    name, pid = row
    return f" ({name})" if name else f" (server backend {pid})"


def acquire(conn: PgConnection, wait: float | None) -> Held:
    """Take the lock on `conn`, leaving its transaction open, or raise LockedError (exit 75)
    naming the holder."""
    from psycopg import errors as pgerrors

    # A server-wide idle_in_transaction_session_timeout would end the lock's idle transaction.
    conn.execute("SELECT set_config('idle_in_transaction_session_timeout', '0', false)")
    conn.commit()
    table = ensure_table(conn)
    try:
        conn.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE NOWAIT")
        return _held(conn, table)
    except pgerrors.LockNotAvailable:
        conn.rollback()
    who = holder(conn, table)
    if not wait:
        raise LockedError(f"another sync is running{who}; try again later or pass --wait SECONDS")
    log.info("waiting up to %g s for another sync to finish%s", wait, who)
    try:
        # Local to the lock's transaction, which runs nothing else.
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, int(wait * 1000))}ms",))
        conn.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        return _held(conn, table)
    except pgerrors.LockNotAvailable:
        conn.rollback()
        raise LockedError(
            f"another sync is still running after {wait:g} s{holder(conn, table)}; "
            "try again later or pass a longer --wait"
        ) from None


def _held(conn: PgConnection, table: int) -> Held:
    row = conn.execute("SELECT pg_backend_pid(), backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
    pid, since = row.fetchone() or (None, None)
    assert pid is not None  # a backend always sees its own row in pg_stat_activity
    return Held(table, pid, since)


@contextmanager
def locked_engine(url: str, where: str, *, wait: float | None, purpose: str) -> Iterator[Engine]:
    """The registry's sync lock held, and an engine over one connection fenced on it, for the
    `with` block."""
    name = application_name(purpose)
    lock = pgconnect.connect(url, application_name=name, where=where)
    try:
        held = acquire(lock, wait)
        writes = pgconnect.connect(url, application_name=name, where=where)
        engine = fenced_engine(writes, held, where)
        try:
            yield engine
        finally:
            engine.dispose()
            writes.close()
    finally:
        lock.close()  # ends the lock's transaction: the next sync may run


def fenced_engine(conn: PgConnection, held: Held, where: str) -> Engine:
    """An engine over `conn` alone whose every transaction starts by checking the lock is held."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    handed_out = False

    def creator() -> PgConnection:
        nonlocal handed_out
        if handed_out:  # the pool lost the connection; a silent reconnect could hide a lost lock
            raise RegistryError(
                f"lost the connection to {where} that the sync writes through; nothing more was written, run it again"
            )
        handed_out = True
        return conn

    engine = create_engine("postgresql+psycopg://", creator=creator, poolclass=StaticPool)

    @event.listens_for(engine, "begin")
    def still_held(sa_conn: Connection) -> None:
        if sa_conn.exec_driver_sql(HELD, held.params()).first() is None:
            raise RegistryError(
                f"this sync no longer holds the lock on {where}; nothing more was written, run it again"
            )

    return engine
