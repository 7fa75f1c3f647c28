"""Engines for the registry: a writer (WAL, busy timeout, real transactions) and read-only readers."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from catalog.errors import RegistryError

BUSY_TIMEOUT_MS = 10_000


def url_of(db: str) -> str:
    """A path or a SQLAlchemy URL -> a SQLAlchemy URL (paths become absolute sqlite URLs)."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def describe(db: str) -> str:
    """How to name the registry in a message: the path, or the URL without its password."""
    if "://" not in db:
        return db
    from sqlalchemy.engine import make_url

    return make_url(db).render_as_string(hide_password=True)


def _sqlite_setup(engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        # Manage transactions ourselves: pysqlite's implicit BEGIN breaks transactional DDL.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe in WAL mode
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        # Take the write lock up front so a transaction never fails half-way on a busy database.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def write_engine(db: str):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    url = url_of(db)
    if url.startswith("sqlite"):
        path = _sqlite_file(db)
        if path is not None and not path.parent.is_dir():
            raise RegistryError(f"cannot create the registry {db}: folder {path.parent} does not exist")
        engine = create_engine(url, poolclass=NullPool)
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_file(db: str) -> Path | None:
    from catalog.readonly import sqlite_path

    return sqlite_path(db)


def registry_exists(db: str) -> bool:
    path = _sqlite_file(db)
    return path is None or path.exists()


def open_registry(db: str):
    """Writer engine with the schema at head (a new registry is created, an older one upgraded)."""
    from catalog import migrate

    engine = write_engine(db)
    try:
        with engine.begin() as conn:
            migrate.upgrade(conn, describe(db))
    except Exception as exc:
        engine.dispose()
        raise registry_error(exc, db) from exc
    return engine


def upgrade_registry(db: str) -> tuple[str | None, str]:
    """`catalog db upgrade`: (revision before, revision after)."""
    from catalog import migrate

    engine = write_engine(db)
    try:
        with engine.begin() as conn:
            before = migrate.current_revision(conn)
            migrate.upgrade(conn, describe(db))
        return before, migrate.head_revision()
    except Exception as exc:
        raise registry_error(exc, db) from exc
    finally:
        engine.dispose()


@contextmanager
def read_connection(db: str, *, timeout: float | None = None) -> Iterator:
    """A read-only connection with the schema checked; never takes the sync lock."""
    from catalog import migrate
    from catalog.readonly import sqlalchemy_engine

    engine = sqlalchemy_engine(db, timeout=timeout)
    try:
        with engine.connect() as conn:
            migrate.check_readable(conn, describe(db))
            yield conn
    finally:
        engine.dispose()


def registry_error(exc: BaseException, db: str) -> Exception:
    """Map driver errors to one actionable line; CatalogErrors pass through unchanged."""
    from sqlalchemy.exc import DBAPIError

    from catalog.errors import CatalogError

    if isinstance(exc, CatalogError) or not isinstance(exc, (DBAPIError, sqlite3.Error)):
        return exc  # not a database problem: let it surface as what it is
    where = describe(db)
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(original).splitlines()[0] if str(original) else type(original).__name__
    if isinstance(original, sqlite3.OperationalError):
        if "locked" in text or "busy" in text:
            return RegistryError(f"the registry at {where} is locked by another process ({text}); try again shortly")
        if "readonly" in text or "read-only" in text:
            return RegistryError(f"cannot write the registry at {where}: {text}; check the file's and folder's permissions")
        if "unable to open" in text:
            return RegistryError(f"cannot open the registry at {where}: {text}; check the path and permissions")
    if isinstance(original, sqlite3.DatabaseError) and "not a database" in text:
        return RegistryError(f"{where} is not a SQLite database ({text}); point --db at a catalog registry")
    return RegistryError(f"registry error at {where}: {text}")
