"""`catalog query` on PostgreSQL, and the reader role it needs (`catalog db reader-sql ROLE`).

Three layers, because each alone leaks:
- a reader role: SELECT only, no TEMP. A role that can write is refused before anything runs,
  because a READ ONLY transaction still lets a superuser `COPY … TO PROGRAM`, `lo_export`,
  `pg_terminate_backend` and `dblink_exec`, and lets a table's writer `LOCK TABLE`;
- a READ ONLY transaction that is always rolled back, with `statement_timeout` from --timeout;
- one statement only: psycopg's extended protocol (`prepare=True`) refuses `COMMIT; DELETE …`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from itertools import chain
from typing import TYPE_CHECKING, Any, cast

from catalog.errors import QueryError, UsageError
from catalog.registry import migrate
from catalog.registry.locations import describe, url_of
from catalog.registry.pgconnect import read_engine
from catalog.registry.query_rows import VALUE_LIMIT, Row, batched, ran_too_long, too_long, unique_names

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import Dialect

    PgConnection = psycopg.Connection[tuple[Any, ...]]

Answer = tuple[list[str], Iterator[list[Row]]]  # column names, rows in batches
CURSOR = "catalog_query"
TOO_LONG = "catalog-row-too-long"  # marks the error of a row past VALUE_LIMIT
_TRAILING = re.compile(r"[\s;]+$")  # `SELECT 1;` is one statement, and fits in a subquery without its `;`

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
            deadline = time.monotonic() + timeout
            try:
                names, head, rows = _start(raw, statement, values, timeout, deadline)
                try:
                    yield names, _batches(chain(head, rows), timeout)
                finally:
                    rows.close()  # a reader that stopped early: the server stops too
            finally:
                raw.rollback()  # whatever the statement was, nothing it did is kept
    finally:
        engine.dispose()


def _start(
    raw: PgConnection, statement: str, values: Mapping[str, Any], timeout: float, deadline: float
) -> tuple[list[str], list[Row], Generator[Row]]:
    """Column names, any rows already read, and the rest as they come, one at a time (libpq's
    single-row mode).

    A SELECT or VALUES runs wrapped so that the server refuses a row longer than VALUE_LIMIT; a
    cursor declared over it (and never run) names its columns, even when there will be no rows.
    Anything else (EXPLAIN, SHOW, ...) cannot be wrapped and is streamed as it is. The statement
    gets what is left of --timeout, counted to its last row.
    """
    from psycopg import errors as pgerrors

    cursor = raw.cursor()
    try:
        cursor.execute("SAVEPOINT catalog_query")
        wrapped = bounded(statement)
        try:
            # One statement: prepare=True sends it by the extended protocol, which refuses several.
            cursor.execute(f"DECLARE {CURSOR} NO SCROLL CURSOR FOR {wrapped}", values, prepare=True)
        except pgerrors.SyntaxError:
            cursor.execute("ROLLBACK TO SAVEPOINT catalog_query")
            _time_left(cursor, deadline)
            rows = _closable(cursor.stream(statement, values))
            first = next(rows, None)  # its columns are known once its first row arrives
            return _names(cursor), [] if first is None else [first], rows
        cursor.execute(f"FETCH FORWARD 0 FROM {CURSOR}")  # no rows, but the columns
        names = _names(cursor)
        cursor.execute(f"CLOSE {CURSOR}")
        _time_left(cursor, deadline)
    except Exception as exc:
        raise query_error(exc, timeout) from None
    # Not the cursor's FETCH: the server would collect every row before sending the first.
    return names, [], _closable(cursor.stream(wrapped, values))


def bounded(statement: str) -> str:
    """`statement` with each row checked against VALUE_LIMIT on the server.

    The check cannot be a plain error call (a reader may not create functions), so a row too long
    fails a cast whose text says so (see query_error). Newlines keep a trailing `-- comment` shut in.
    """
    body = _TRAILING.sub("", statement)
    return (
        f"SELECT catalog_row.* FROM (\n{body}\n) AS catalog_row "
        f"WHERE (CASE WHEN pg_catalog.pg_column_size(catalog_row.*) > {VALUE_LIMIT} "
        f"THEN pg_catalog.pg_column_size(catalog_row.*)::text || ' bytes: {TOO_LONG}' END)::int IS NULL"
    )


def _time_left(cursor: psycopg.Cursor[Row], deadline: float) -> None:
    left = max(1, int((deadline - time.monotonic()) * 1000))
    cursor.execute("SELECT set_config('statement_timeout', %s, true)", (f"{left}ms",))


def _closable(rows: Iterator[Row]) -> Generator[Row]:
    """psycopg's row stream with a close() that cancels what the server has still to send."""
    yield from rows


def _batches(rows: Iterator[Row], timeout: float) -> Iterator[list[Row]]:
    try:
        yield from batched(rows)
    except Exception as exc:
        raise query_error(exc, timeout) from None


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
    if isinstance(exc, QueryError):
        return exc
    if isinstance(exc, pgerrors.QueryCanceled):
        return ran_too_long(timeout)
    if isinstance(exc, pgerrors.InvalidTextRepresentation) and TOO_LONG in message:
        return too_long("a row")
    refused = isinstance(exc, (pgerrors.ReadOnlySqlTransaction, pgerrors.InsufficientPrivilege))
    if refused or "multiple commands" in message:
        return QueryError(f"refused: the registry is opened read-only ({message})")
    return QueryError(f"the query failed: {message}")


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
