"""`catalog query` on PostgreSQL, and the reader role it needs (`catalog db reader-sql ROLE`).

Three layers, because each alone leaks:
- a reader role: SELECT only, no TEMP. A role that can write is refused before anything runs,
  because a READ ONLY transaction still lets a superuser `COPY … TO PROGRAM`, `lo_export`,
  `pg_terminate_backend` and `dblink_exec`, and lets a table's writer `LOCK TABLE`;
- a READ ONLY transaction that is always rolled back, with `statement_timeout` from --timeout;
- one statement only: psycopg's extended protocol (`prepare=True`) refuses `COMMIT; DELETE …`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from catalog.errors import QueryError, UsageError
from catalog.registry import migrate
from catalog.registry.locations import describe, url_of
from catalog.registry.pgconnect import read_engine
from catalog.registry.readonly import unique_names

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import Dialect

    PgConnection = psycopg.Connection[tuple[Any, ...]]

Row = tuple[Any, ...]
Answer = tuple[list[str], Iterator[list[Row]]]  # column names, rows in batches
CURSOR = "catalog_query"
BATCH_ROWS = 500  # rows per FETCH: what the client holds at a time

WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
# Built-in roles whose members reach outside the database or end other sessions.
RISKY_ROLES = ("pg_execute_server_program", "pg_write_server_files", "pg_signal_backend", "pg_write_all_data")

CAN_WRITE = """
SELECT c.relname, p.privilege
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN unnest(%(privileges)s::text[]) AS p(privilege)
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND has_table_privilege(c.oid, p.privilege)
ORDER BY c.relname, p.privilege
LIMIT 1
"""
RISKY_MEMBERSHIP = """
SELECT rolname FROM pg_roles
WHERE rolname = ANY(%(roles)s::text[]) AND pg_has_role(current_user, oid, 'USAGE')
ORDER BY rolname LIMIT 1
"""


@contextmanager
def stream(db: str, sql: str, params: dict[str, Any], *, timeout: float) -> Iterator[Answer]:
    """One read-only statement as a reader role: its column names, and its rows in batches as the
    server produces them, for the `with` block."""

    engine = read_engine(url_of(db), timeout=timeout)
    try:
        with engine.connect() as conn:
            # psycopg's own connection, in a READ ONLY transaction from its first statement
            raw = cast("psycopg.Connection[tuple[Any, ...]]", conn.connection.driver_connection)
            refuse_writers(raw)  # first: a writer is refused whatever else it could or could not read
            migrate.check_readable(conn, describe(db))
            statement, values = bind(conn.dialect, sql, params)
            try:
                yield _answer(raw, statement, values, Budget(timeout))
            finally:
                raw.rollback()  # whatever the statement was, nothing it did is kept
    finally:
        engine.dispose()


def run(db: str, sql: str, params: dict[str, Any], *, timeout: float) -> tuple[list[str], list[Row]]:
    """Columns and every row of one read-only statement (for small answers; `catalog query` streams)."""
    with stream(db, sql, params, timeout=timeout) as (columns, batches):
        return columns, [row for batch in batches for row in batch]


class Budget:
    """--timeout from the statement's start to its last row: each FETCH gets what is left."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout

    def left_ms(self) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise timed_out(self.timeout)
        return max(1, int(left * 1000))


def _answer(raw: PgConnection, statement: str, values: Mapping[str, Any], budget: Budget) -> Answer:
    """A server-side cursor (rows fetched a batch at a time) for a SELECT or VALUES; anything else
    (EXPLAIN, SHOW, ...) cannot be a cursor, returns little, and is fetched whole."""
    from psycopg import errors as pgerrors

    cursor = raw.cursor()
    try:
        cursor.execute("SAVEPOINT catalog_query")
        try:
            # One statement: prepare=True sends it by the extended protocol, which refuses several.
            cursor.execute(f"DECLARE {CURSOR} NO SCROLL CURSOR FOR {statement}", values, prepare=True)
        except pgerrors.SyntaxError:
            cursor.execute("ROLLBACK TO SAVEPOINT catalog_query")
            cursor.execute(statement, values, prepare=True)
            rows = cursor.fetchall() if cursor.description else []
            return _names(cursor), iter([rows] if rows else [])
        first = _fetch(cursor, budget)
    except QueryError:
        raise
    except Exception as exc:
        raise query_error(exc, budget.timeout) from None
    return _names(cursor), _batches(cursor, first, budget)


def _fetch(cursor: psycopg.Cursor[Row], budget: Budget) -> list[Row]:
    cursor.execute("SELECT set_config('statement_timeout', %s, true)", (f"{budget.left_ms()}ms",))
    cursor.execute(f"FETCH FORWARD {BATCH_ROWS} FROM {CURSOR}")
    return cursor.fetchall()


def _batches(cursor: psycopg.Cursor[Row], first: list[Row], budget: Budget) -> Iterator[list[Row]]:
    batch = first
    while batch:
        yield batch
        if len(batch) < BATCH_ROWS:
            return
        try:
            batch = _fetch(cursor, budget)
        except QueryError:
            raise
        except Exception as exc:
            raise query_error(exc, budget.timeout) from None


def _names(cursor: psycopg.Cursor[Row]) -> list[str]:
    return unique_names([column.name for column in cursor.description or ()])


def refuse_writers(raw: psycopg.Connection[tuple[Any, ...]]) -> None:
    with raw.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone() or ("?", False)
        cursor.execute(CAN_WRITE, {"privileges": list(WRITE_PRIVILEGES)})
        writable = cursor.fetchone()
        cursor.execute(RISKY_MEMBERSHIP, {"roles": list(RISKY_ROLES)})
        risky = cursor.fetchone()
    if superuser:
        why = "is a superuser"
    elif writable:
        why = f"has {writable[1]} on {writable[0]}"
    elif risky:
        why = f"is a member of {risky[0]}"
    else:
        return
    raise QueryError(
        f"refused: role {user} {why}, and `catalog query` runs only as a read-only role; "
        f"create one with `catalog db reader-sql ROLE` and connect as it"
    )


def bind(dialect: Dialect, sql: str, params: dict[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """`:name` parameters (as on SQLite) -> psycopg's `%(name)s`, with literal `%` escaped."""
    from sqlalchemy import text
    from sqlalchemy.exc import ArgumentError, InvalidRequestError

    try:
        compiled = text(sql).compile(dialect=dialect)
        return str(compiled), compiled.construct_params(params, _check=True)
    except (InvalidRequestError, ArgumentError) as exc:
        raise QueryError(f"the query failed: {str(exc).splitlines()[0]} (pass --param NAME=VALUE)") from None


def query_error(exc: BaseException, timeout: float) -> QueryError:
    from psycopg import errors as pgerrors

    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, pgerrors.QueryCanceled):
        return timed_out(timeout)
    refused = isinstance(exc, (pgerrors.ReadOnlySqlTransaction, pgerrors.InsufficientPrivilege))
    if refused or "multiple commands" in message:
        return QueryError(f"refused: the registry is opened read-only ({message})")
    return QueryError(f"the query failed: {message}")


def timed_out(timeout: float) -> QueryError:
    return QueryError(f"the query ran longer than {timeout:g} s and was stopped; narrow it or raise --timeout")


# ---------------------------------------------------------------- the reader role, for an admin


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reader_sql(db: str, role: str, schema: str = "public") -> str:
    """SQL that creates ROLE as a login role that can only read the registry in `schema`."""
    from sqlalchemy.engine import make_url

    if not role or len(role.encode()) > 63 or "\0" in role:
        raise UsageError("ROLE must be 1 to 63 bytes (a PostgreSQL role name)")
    url = make_url(url_of(db))
    if not url.database:
        raise UsageError("--db names no database; pass --db postgresql+psycopg://USER@HOST/DATABASE")
    r, database, s = quote(role), quote(url.database), quote(schema)
    writer = quote(url.username) if url.username else "CURRENT_USER"
    return f"""\
-- A read-only role for `catalog query` and the other reading commands on {database}.
-- Run it once with psql as a superuser (it creates a role and changes the owner's defaults):
--   psql "postgresql://ADMIN@HOST/{url.database}" -v ON_ERROR_STOP=1 -f reader.sql
-- Then set the reader's password apart from this file, typed at the prompt:  \\password {r}
-- and give readers --db postgresql+psycopg://{role}@HOST/{url.database} (password in ~/.pgpass or PGPASSWORD).
CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
ALTER ROLE {r} SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE {database} TO {r};
-- No temporary tables: every role gets TEMP on a database through PUBLIC, so take it from PUBLIC
-- (grant it back by name to any other application of this database that needs it).
REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC;
GRANT USAGE ON SCHEMA {s} TO {r};
GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r};
-- Tables and views that later upgrades add are readable too:
ALTER DEFAULT PRIVILEGES FOR ROLE {writer} IN SCHEMA {s} GRANT SELECT ON TABLES TO {r};
"""
