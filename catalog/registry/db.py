"""The registry as the rest of catalog sees it, whatever the engine (see catalog.registry.engines):
a locked writer with the schema at head, read-only connections, one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from catalog.errors import UsageError
from catalog.registry import migrate
from catalog.registry.engines import (  # noqa: F401  (the public names)
    SQLiteRules,
    one_line_errors,
    registry_error,
    rules_for,
)
from catalog.registry.locations import describe, url_of  # noqa: F401  (the public names)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from catalog.registry.sql import AnyConnection


def write_engine(db: str) -> Engine:
    """A SQLite writer engine without the lock (tests and tools that build old registries)."""
    rules = rules_for(db)
    if not isinstance(rules, SQLiteRules):
        raise UsageError(f"{describe(db)}: a writer engine without the lock is for SQLite registries only")
    return rules.write_engine()


def open_registry(db: str) -> Engine:
    """A writer engine with the schema at head, without the sync lock (tests and benchmarks)."""

    engine = write_engine(db)
    try:
        with one_line_errors(db), engine.begin() as conn:
            migrate.upgrade(conn, describe(db))
    except BaseException:
        engine.dispose()
        raise
    return engine


def registry_exists(db: str) -> bool:
    return rules_for(db).exists()


@contextmanager
def writer(db: str, *, wait: float | None = None, purpose: str = "sync") -> Iterator[Engine]:
    """The sync lock held and an engine with the schema at head (a new registry is created, an
    older one upgraded) for the `with` block. LockedError (exit 75) when another writer holds it."""

    with one_line_errors(db), rules_for(db).writer(wait=wait, purpose=purpose) as engine:
        with engine.begin() as conn:
            migrate.upgrade(conn, describe(db))
        yield engine


@contextmanager
def unlocked_writer(db: str, *, purpose: str) -> Iterator[Engine]:
    """An engine for writes that need no sync lock (probes: their budget rows serialize by
    themselves), on a registry whose schema is already at head."""

    engine = rules_for(db).unlocked_engine(purpose)
    try:
        with one_line_errors(db):
            with engine.connect() as conn:
                migrate.check_readable(conn, describe(db))
            yield engine
    finally:
        engine.dispose()


def upgrade_registry(db: str) -> tuple[str | None, str]:
    """`catalog db upgrade`, under the sync lock: (revision before, revision after)."""

    with (
        one_line_errors(db),
        rules_for(db).writer(wait=None, purpose="db upgrade") as engine,
        engine.begin() as conn,
    ):
        before = migrate.current_revision(conn)
        migrate.upgrade(conn, describe(db))
    return before, migrate.head_revision()


@contextmanager
def query_connection(db: str) -> Iterator[AnyConnection]:
    """A read-only connection for the query commands, with the schema checked; never takes the
    sync lock. On SQLite a plain sqlite3 connection, so the command never imports SQLAlchemy: read
    through it only with the plain-SQL readers (reads, health_reads, history, queries)."""

    with one_line_errors(db), rules_for(db).query_connection() as conn:
        migrate.check_readable(conn, describe(db))
        yield conn


@contextmanager
def read_connection(db: str, *, timeout: float | None = None) -> Iterator[Connection]:
    """A read-only connection with the schema checked; never takes the sync lock."""

    engine = rules_for(db).read_engine(timeout=timeout)
    try:
        with one_line_errors(db), engine.connect() as conn:
            migrate.check_readable(conn, describe(db))
            yield conn
    finally:
        engine.dispose()
