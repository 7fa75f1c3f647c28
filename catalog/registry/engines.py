"""Each database engine's rules, side by side: what `--db` names, how a sync locks the registry
and connects to write, how readers connect, and how the driver's errors read as one line.

|                  | SQLite (`catalog.db`, `sqlite:///…`)     | PostgreSQL (`postgresql+psycopg://…`)            |
|------------------|-------------------------------------------|--------------------------------------------------|
| one sync at once | `flock` on `<file>.lock` (catalog.registry.lock)   | EXCLUSIVE lock on table `sync_lock`, held open on a connection of its own (catalog.registry.pglock) |
| writer           | WAL, busy timeout, BEGIN IMMEDIATE        | one connection, never replaced; each transaction checks the lock is still held |
| readers          | `mode=ro` + query_only + authorizer; the query commands on plain sqlite3 | READ ONLY transactions; `query` also needs a reader role (catalog.registry.pgquery) |
| schema upgrades  | Alembic, under the file lock              | Alembic, under the table lock                    |

Everything else (sync, import, render, the commands) asks `rules_for(db)` and stays engine-blind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from catalog.errors import CatalogError, RegistryError, UsageError
from catalog.registry import pgconnect, pglock, pgquery, readonly
from catalog.registry.locations import PG_SCHEMES, describe, scheme_of, sqlite_path, url_of
from catalog.registry.lock import registry_lock
from catalog.registry.readonly import sqlalchemy_engine
from catalog.registry.sql import has_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.pool import ConnectionPoolEntry

    from catalog.registry.pgquery import Answer

BUSY_TIMEOUT_MS = 10_000


def rules_for(db: str) -> SQLiteRules | PostgresRules:
    scheme = scheme_of(db)
    if scheme in PG_SCHEMES:
        return PostgresRules(db)
    if scheme != "sqlite":
        raise UsageError(
            f"{describe(db)}: catalog keeps its registry in SQLite (a path or sqlite:///PATH) "
            "or PostgreSQL (postgresql+psycopg://USER@HOST/DATABASE)"
        )
    return SQLiteRules(db)


class SQLiteRules:
    """The embedded default: one file, one host."""

    name = "SQLite"

    def __init__(self, db: str) -> None:
        self.db = db
        self.path = sqlite_path(db)

    def exists(self) -> bool:
        return self.path is None or self.path.exists()

    @contextmanager
    def writer(self, *, wait: float | None, purpose: str) -> Iterator[Engine]:
        """The sync lock held, and an engine to write with, for the `with` block."""

        with registry_lock(self.db, wait=wait):
            engine = self.write_engine()
            try:
                yield engine
            finally:
                engine.dispose()

    def unlocked_engine(self, purpose: str) -> Engine:
        """Writes that need no sync lock (a probe's budget row): SQLite serializes writers itself."""
        return self.write_engine()

    def write_engine(self) -> Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import NullPool

        if self.path is not None and not self.path.parent.is_dir():
            raise RegistryError(f"cannot create the registry {self.db}: folder {self.path.parent} does not exist")
        engine = create_engine(url_of(self.db), poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            # Manage transactions ourselves: pysqlite's implicit BEGIN breaks transactional DDL.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe in WAL mode
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def on_begin(conn: Connection) -> None:
            # Take the write lock up front so a transaction never fails half-way on a busy database.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def read_engine(self, *, timeout: float | None) -> Engine:

        return sqlalchemy_engine(self.db, timeout=timeout)

    @contextmanager
    def query_connection(self) -> Iterator[sqlite3.Connection]:
        """A plain sqlite3 connection that cannot write: the query commands skip SQLAlchemy."""

        conn = readonly.connect(self.db)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def query(self, sql: str, params: dict[str, Any], *, timeout: float) -> Iterator[Answer]:
        """`catalog query`: one statement through a connection that cannot write
        (catalog.registry.readonly); its columns and its rows in batches, for the `with` block."""

        conn = readonly.connect(self.db, timeout=timeout)
        try:
            yield readonly.stream(conn, sql, params)
        finally:
            conn.close()

    def error(self, original: BaseException, where: str) -> CatalogError | None:
        """One line for a sqlite3 error; None when there is nothing specific to say."""
        text = _first_line(original)
        if isinstance(original, sqlite3.OperationalError):
            if "locked" in text or "busy" in text:
                return RegistryError(
                    f"the registry at {where} is locked by another process ({text}); try again shortly"
                )
            if "readonly" in text or "read-only" in text:
                return RegistryError(
                    f"cannot write the registry at {where}: {text}; check the file's and folder's permissions"
                )
            if "unable to open" in text:
                return RegistryError(f"cannot open the registry at {where}: {text}; check the path and permissions")
        if isinstance(original, sqlite3.DatabaseError) and "not a database" in text:
            return RegistryError(f"{where} is not a SQLite database ({text}); point --db at a catalog registry")
        return None


class PostgresRules:
    """The shared engine: many hosts, one server."""

    name = "PostgreSQL"

    def __init__(self, db: str) -> None:
        self.db = db
        self.url = url_of(db)

    def exists(self) -> bool:
        """Whether the database holds a registry yet (its admin creates the database; the first
        sync creates the registry in it)."""

        with self.query_connection() as conn:
            return has_table(conn, "alembic_version")

    @contextmanager
    def writer(self, *, wait: float | None, purpose: str) -> Iterator[Engine]:

        with pglock.locked_engine(self.url, describe(self.db), wait=wait, purpose=purpose) as engine:
            yield engine

    def unlocked_engine(self, purpose: str) -> Engine:
        """Writes that need no sync lock (a probe's budget row); they serialize on a table lock."""

        return pgconnect.write_engine(self.url, application_name=f"catalog {purpose}")

    def read_engine(self, *, timeout: float | None) -> Engine:

        return pgconnect.read_engine(self.url, timeout=timeout)

    @contextmanager
    def query_connection(self) -> Iterator[Connection]:
        """A READ ONLY SQLAlchemy connection: a server registry needs the driver anyway."""
        engine = self.read_engine(timeout=None)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    @contextmanager
    def query(self, sql: str, params: dict[str, Any], *, timeout: float) -> Iterator[Answer]:
        """`catalog query`: one statement, as a reader role, READ ONLY and rolled back
        (catalog.registry.pgquery); its columns and its rows in batches, for the `with` block."""

        with one_line_errors(self.db), pgquery.stream(self.db, sql, params, timeout=timeout) as answer:
            yield answer

    def error(self, original: BaseException, where: str) -> CatalogError | None:

        return pgconnect.error(original, where)


@contextmanager
def one_line_errors(db: str) -> Iterator[None]:
    """Driver errors raised in the block become one-line RegistryErrors (see registry_error)."""
    try:
        yield
    except Exception as exc:
        mapped = registry_error(exc, db)
        if mapped is exc:
            raise
        raise mapped from exc


def registry_error(exc: BaseException, db: str) -> BaseException:
    """Map driver errors to one actionable line; CatalogErrors and non-database errors pass through."""
    from sqlalchemy.exc import DBAPIError

    # A DBAPIError wraps the driver's error (its orig, never None when SQLAlchemy raises one).
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(exc, CatalogError) or not (isinstance(exc, DBAPIError) or _is_driver_error(original)):
        return exc  # not a database problem: let it surface as what it is
    where = describe(db)
    return rules_for(db).error(original, where) or RegistryError(f"registry error at {where}: {_first_line(original)}")


def _is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".", 1)[0] in ("psycopg", "sqlite3")


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
