"""Plain SQL for the registry's reads: one text, run on every engine and both kinds of connection.

The query commands (`models`, `changes`, `history`, `health`) read a SQLite registry through a
plain sqlite3 connection (catalog.registry.readonly) so that they never import SQLAlchemy, which
alone costs ~150 ms of a ~250 ms start-up (profiled with -X importtime). Sync and render run the
very same statements through their SQLAlchemy connection, and PostgreSQL always does, so each read
is written once. The SQL is the common subset of both engines: `:name` parameters, boolean
columns used bare as predicates (`WHERE is_free`), `FILTER (WHERE ...)` on aggregates.

What differs by driver is handled here and only here: times are ISO text on both engines (parsed
by the caller with catalog.times), JSON columns come back as text from SQLite and already decoded
from psycopg.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from catalog.times import format_time

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy.engine import Connection

    # What the plain-SQL readers run on: a plain sqlite3 connection (the query commands on SQLite)
    # or a SQLAlchemy one (everything else).
    AnyConnection: TypeAlias = sqlite3.Connection | Connection


def rows(conn: AnyConnection, statement: str, params: dict[str, Any] | None = None) -> Sequence[Sequence[Any]]:
    """Every row of one statement, as tuples (a SQLAlchemy Row is one)."""
    driver = _sqlite_of(conn)
    if driver is not None:
        found: list[tuple[Any, ...]] = driver.execute(statement, params or {}).fetchall()
        return found
    assert not isinstance(conn, sqlite3.Connection)  # _sqlite_of returns every sqlite3 connection
    from sqlalchemy import text

    return conn.execute(text(statement), params or {}).all()


def _sqlite_of(conn: AnyConnection) -> sqlite3.Connection | None:
    """The sqlite3 connection to run on: the connection itself, or the one under a SQLAlchemy
    connection (same transaction). SQLAlchemy's result rows cost a third of reading 50,000
    versions (cProfile of load_snapshot: 0.66 s through Result, 0.46 s on sqlite3)."""
    if isinstance(conn, sqlite3.Connection):
        return conn
    if conn.dialect.name == "sqlite":
        driver: sqlite3.Connection | None = conn.connection.driver_connection
        return driver
    return None


def up_to(column: str, at: datetime | None) -> tuple[str, dict[str, Any]]:
    """`column <= :at` with its parameter for a time travel; TRUE (no bound) without one."""
    return ("TRUE", {}) if at is None else (f"{column} <= :at", {"at": format_time(at)})


def scalar(conn: AnyConnection, statement: str, params: dict[str, Any] | None = None) -> Any:
    """The first column of the first row; None when there is no row."""
    found = rows(conn, statement, params)
    return found[0][0] if found else None


def in_list(name: str, values: Iterable[Any], params: dict[str, Any]) -> str:
    """`(:name_0, :name_1, ...)` for `IN`, binding each value into `params`."""
    names = []
    for i, value in enumerate(values):
        params[f"{name}_{i}"] = value
        names.append(f":{name}_{i}")
    return f"({', '.join(names)})"


def json_decoder(conn: AnyConnection) -> Callable[[Any], Any]:
    """How to read this connection's JSON columns: json.loads for SQLite's text, as-is otherwise.
    SQL NULL stays None either way."""
    return _loads if _sqlite_of(conn) is not None else _as_is


def _loads(value: Any) -> Any:
    # A JSON column has NUMERIC affinity on SQLite: a JSON number comes back as a number.
    return json.loads(value) if isinstance(value, str) else value


def _as_is(value: Any) -> Any:
    return value


def has_table(conn: AnyConnection, name: str) -> bool:
    if _sqlite_of(conn) is not None:
        return (
            scalar(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name", {"name": name})
            is not None
        )
    assert not isinstance(conn, sqlite3.Connection)  # _sqlite_of returns every sqlite3 connection
    from sqlalchemy import inspect

    has: bool = inspect(conn).has_table(name)
    return has
