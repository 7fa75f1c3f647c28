"""Read-only access to the registry: no statement run through these connections can write.

Three layers, because each alone leaks:
- `mode=ro` opens the file read-only, yet `ATTACH 'x.db'` still creates x.db and `VACUUM INTO`
  leaves its output file behind;
- `PRAGMA query_only=ON` refuses data changes, yet lets `PRAGMA writable_schema=1` through;
- an authorizer (`set_authorizer`) allows only reads, selects, harmless functions and a short
  list of pragmas that merely report; it refuses everything else while the statement is
  prepared, so nothing runs at all.
A progress handler stops statements that run past a deadline; the query runner also bounds the
length of any one value (VALUE_LIMIT), so a runaway value fails at once instead of filling memory.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.errors import QueryError, RegistryError
from catalog.registry.locations import sqlite_path
from catalog.registry.query_rows import VALUE_LIMIT, Row, batched, ran_too_long, too_long, unique_names

if TYPE_CHECKING:
    import sqlalchemy

log = logging.getLogger("catalog")

# How long to wait for a writer's lock (a checkpoint, or a rollback-journal database mid-write).
BUSY_TIMEOUT = 5.0
# VM instructions between deadline checks: frequent enough to stop within milliseconds,
# rare enough to cost nothing measurable.
PROGRESS_STEPS = 1000
_clock = time.monotonic  # a name of our own, so tests can move time without sleeping
TOO_BIG = "string or blob too big"  # SQLite's own words for a value past the length limit
# A printf conversion's width and precision: digits or `*` (taken from the arguments).
_SPEC = re.compile(r"%[-+ 0#,!]*(\d+|\*)?(?:\.(\d+|\*))?")

# Pragmas whose argument names a table or index (or a row limit): they only report.
_NAME_ARG_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
    }
)
# Pragmas allowed only without a value: with one (`journal_mode=delete`, `user_version=5`,
# `query_only=0`) they change the database or this connection's guarantees.
_REPORT_PRAGMAS = frozenset(
    {
        "user_version",
        "schema_version",
        "application_id",
        "data_version",
        "journal_mode",
        "page_size",
        "page_count",
        "freelist_count",
        "encoding",
        "auto_vacuum",
        "foreign_keys",
        "query_only",
        "database_list",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "compile_options",
        "read_uncommitted",
        "busy_timeout",
        "cache_size",
        "synchronous",
        "wal_autocheckpoint",
    }
)
# SQL functions that reach outside the database or change the connection.
_DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer", "writefile", "readfile", "edit", "sqlite_dbpage"})
# Names of the action codes, for messages ("INSERT on models").
_ACTION_NAMES = {
    getattr(sqlite3, name): name.removeprefix("SQLITE_")
    for name in (
        "SQLITE_CREATE_INDEX",
        "SQLITE_CREATE_TABLE",
        "SQLITE_CREATE_TEMP_INDEX",
        "SQLITE_CREATE_TEMP_TABLE",
        "SQLITE_CREATE_TEMP_TRIGGER",
        "SQLITE_CREATE_TEMP_VIEW",
        "SQLITE_CREATE_TRIGGER",
        "SQLITE_CREATE_VIEW",
        "SQLITE_DELETE",
        "SQLITE_DROP_INDEX",
        "SQLITE_DROP_TABLE",
        "SQLITE_DROP_TEMP_INDEX",
        "SQLITE_DROP_TEMP_TABLE",
        "SQLITE_DROP_TEMP_TRIGGER",
        "SQLITE_DROP_TEMP_VIEW",
        "SQLITE_DROP_TRIGGER",
        "SQLITE_DROP_VIEW",
        "SQLITE_INSERT",
        "SQLITE_PRAGMA",
        "SQLITE_READ",
        "SQLITE_SELECT",
        "SQLITE_TRANSACTION",
        "SQLITE_UPDATE",
        "SQLITE_ATTACH",
        "SQLITE_DETACH",
        "SQLITE_ALTER_TABLE",
        "SQLITE_REINDEX",
        "SQLITE_ANALYZE",
        "SQLITE_CREATE_VTABLE",
        "SQLITE_DROP_VTABLE",
        "SQLITE_FUNCTION",
        "SQLITE_SAVEPOINT",
        "SQLITE_RECURSIVE",
    )
    if hasattr(sqlite3, name)
}
_ALWAYS_ALLOWED = frozenset(
    {
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_RECURSIVE,
        # BEGIN/COMMIT/SAVEPOINT cannot write anything on a read-only file; drivers may send them.
        sqlite3.SQLITE_TRANSACTION,
        sqlite3.SQLITE_SAVEPOINT,
    }
)


class ReadOnlyConnection(sqlite3.Connection):
    """A sqlite3 connection that remembers its deadline and why it last refused a statement."""

    timeout: float | None = None
    deadline: float | None = None
    timed_out: bool = False
    last_denied: str | None = None
    oversized: bool = False  # a bounded printf refused a width or precision past VALUE_LIMIT


def connect(db: str, *, timeout: float | None = None) -> sqlite3.Connection:
    """Open the registry so that nothing can write through the connection.

    `timeout` bounds each statement, from its first step to its last fetched row; None: no bound.
    """
    path = sqlite_path(db)
    if path is None:
        raise RegistryError(f"{db!r} is not a SQLite registry file; read-only queries need one (pass --db PATH)")
    path = path.absolute()
    if not path.is_file():
        raise RegistryError(f"no registry at {path}; run `catalog sync` first (or pass --db)")
    conn = _open(path)
    _guard(conn, timeout)
    return conn


def _open(path: Path) -> ReadOnlyConnection:
    try:
        return _open_uri(path, immutable=False)
    except sqlite3.Error as exc:
        if "not a database" in str(exc):
            raise RegistryError(f"{path} is not a SQLite database ({exc}); point --db at a catalog registry") from None
        if not _cannot_create_wal_index(path, exc):
            raise RegistryError(f"cannot read the registry at {path}: {exc}; check the path and permissions") from None
    # A WAL database in a folder we cannot write has no way to create its -shm file.
    # `immutable=1` reads the file without locks or the WAL index. Safe while nobody writes the
    # database; a concurrent writer (someone else who can write the folder) could be missed or
    # give inconsistent reads (see the manual's PostgreSQL and operations pages).
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        log.warning("%s exists but cannot be used from this folder; its newest changes are not shown", wal)
    try:
        return _open_uri(path, immutable=True)
    except sqlite3.Error as exc:
        raise RegistryError(f"cannot read the registry at {path}: {exc}") from None


def _open_uri(path: Path, *, immutable: bool) -> ReadOnlyConnection:
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
    conn = sqlite3.connect(
        uri,
        uri=True,
        timeout=BUSY_TIMEOUT,
        factory=ReadOnlyConnection,
        # SQLAlchemy's NullPool may close the connection on another thread than it opened it.
        check_same_thread=False,
    )
    try:
        # mode=ro opens lazily: read the schema now so a file we cannot use fails here.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _cannot_create_wal_index(path: Path, exc: sqlite3.Error) -> bool:
    """True when the failure is a WAL database whose -shm file cannot be created here."""
    code = getattr(exc, "sqlite_errorname", "")
    message = str(exc).lower()
    if code not in ("SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN") and "unable to open" not in message:
        return False
    shm = path.with_name(path.name + "-shm")
    return not shm.exists() and not _dir_writable(path.parent)


def _dir_writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK)


def _guard(conn: ReadOnlyConnection, timeout: float | None) -> None:
    conn.execute("PRAGMA query_only=ON")
    conn.timeout = timeout
    if timeout is not None:
        conn.set_trace_callback(lambda _sql: _start_clock(conn))
        conn.set_progress_handler(lambda: _past_deadline(conn), PROGRESS_STEPS)
    # Last: from here on even our own PRAGMAs above would be refused.
    conn.set_authorizer(lambda *args: _authorize(conn, *args))


def _start_clock(conn: ReadOnlyConnection) -> None:
    """Called as each statement starts: its time budget starts too."""
    assert conn.timeout is not None  # the clock is set only on connections with a timeout
    conn.deadline = _clock() + conn.timeout
    conn.timed_out = False


def _past_deadline(conn: ReadOnlyConnection) -> int:
    if conn.deadline is not None and _clock() > conn.deadline:
        conn.timed_out = True
        return 1  # non-zero interrupts the statement
    return 0


def _authorize(
    conn: ReadOnlyConnection,
    action: int,
    arg1: str | None,
    arg2: str | None,
    db_name: str | None,
    _trigger: str | None,
) -> int:
    if _allowed(action, arg1, arg2):
        return sqlite3.SQLITE_OK
    conn.last_denied = _describe(action, arg1, arg2)
    return sqlite3.SQLITE_DENY


def _allowed(action: int, arg1: str | None, arg2: str | None) -> bool:
    if action in _ALWAYS_ALLOWED:
        return True
    if action == sqlite3.SQLITE_FUNCTION:
        return (arg2 or "").lower() not in _DENIED_FUNCTIONS
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        return name in _NAME_ARG_PRAGMAS or (name in _REPORT_PRAGMAS and arg2 is None)
    # SQLite asks this while setting up a table-valued function (json_each, pragma_table_info)
    # even inside a plain SELECT. A real UPDATE of sqlite_master is refused by SQLite itself
    # without writable_schema (a pragma refused above), and by mode=ro and query_only.
    return action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master"


def _describe(action: int, arg1: str | None, arg2: str | None) -> str:
    name = _ACTION_NAMES.get(action, f"action {action}")
    if action == sqlite3.SQLITE_FUNCTION:
        return f"function {arg2}()"
    if action == sqlite3.SQLITE_PRAGMA:
        return f"PRAGMA {arg1}" + (f"={arg2}" if arg2 is not None else "")
    if action == sqlite3.SQLITE_ATTACH:
        # VACUUM asks for ATTACH too (of its output file, or '' for a plain VACUUM).
        return f"ATTACH or VACUUM {arg1!r}" if arg1 else "VACUUM"
    if action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_UPDATE):
        return f"{name} on {arg1}"
    return f"{name} {arg1}" if arg1 else name


def query_error(exc: BaseException, conn: sqlite3.Connection | None = None) -> QueryError:
    """One-line QueryError for a failure from a read-only connection (sqlite3 or SQLAlchemy)."""
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    message = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    if isinstance(conn, ReadOnlyConnection) and conn.timed_out and conn.timeout is not None:
        return ran_too_long(conn.timeout)
    oversized = isinstance(conn, ReadOnlyConnection) and conn.oversized
    if oversized or TOO_BIG in message:  # a value past VALUE_LIMIT (or a statement that long)
        return too_long("a value")
    if "binding parameter" in message:
        return QueryError(f"the query failed: {message} (pass --param NAME=VALUE)")
    if _is_refusal(message):
        what = conn.last_denied if isinstance(conn, ReadOnlyConnection) else None
        if what and isinstance(conn, ReadOnlyConnection):
            conn.last_denied = None  # consumed: a later failure must not inherit it
        detail = f"{what}: {message}" if what else message
        return QueryError(f"refused: the registry is opened read-only ({detail})")
    return QueryError(f"the query failed: {message}")


def _is_refusal(message: str) -> bool:
    lowered = message.lower()
    return any(
        phrase in lowered
        for phrase in ("not authorized", "authorization denied", "readonly database", "read-only", "query_only")
    )


def sqlalchemy_engine(db: str, *, timeout: float | None = None) -> sqlalchemy.Engine:
    """An engine whose every connection is one from `connect`: the same guarantees for ORM reads."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    connect(db, timeout=timeout).close()  # fail now, with our message, if the file is missing
    return sqlalchemy.create_engine("sqlite://", creator=lambda: connect(db, timeout=timeout), poolclass=NullPool)


def stream(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> tuple[list[str], Iterator[list[Row]]]:
    """Run one statement: its column names, and its rows in batches as SQLite produces them.

    Memory stays flat whatever the statement returns: no value may pass VALUE_LIMIT, and rows are
    read one at a time and handed on in small batches. The time limit runs from the statement's start to its last row, so
    it counts the time the caller takes to write the rows out too.
    """
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_LIMIT)
    _bound_printf(conn)
    try:
        cursor = conn.execute(sql, params)
    except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError) as exc:
        raise query_error(exc, conn) from None
    return unique_names([item[0] for item in cursor.description or ()]), _batches(conn, cursor)


def _batches(conn: sqlite3.Connection, cursor: sqlite3.Cursor) -> Iterator[list[Row]]:
    try:
        yield from batched(cursor)
    except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError) as exc:
        raise query_error(exc, conn) from None


def _bound_printf(conn: sqlite3.Connection) -> None:
    """printf() and format() that refuse a width or precision past VALUE_LIMIT at once.

    SQLite's own printf ignores the length limit while it pads: `printf('%.*c', 900000000, 'x')`
    runs for seconds (out of reach of the progress handler) before it gives up. Calls within the
    limit are computed by the real printf, on a private in-memory connection.
    """
    plain = sqlite3.connect(":memory:", check_same_thread=False)
    plain.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_LIMIT)

    def bounded(form: Any, *args: Any) -> Any:
        if isinstance(form, str) and _widest(form, args) > VALUE_LIMIT:
            if isinstance(conn, ReadOnlyConnection):
                conn.oversized = True  # SQLite reports only that a function failed
            raise OverflowError(TOO_BIG)
        marks = ", ".join("?" * (1 + len(args)))
        return plain.execute(f"SELECT printf({marks})", (form, *args)).fetchone()[0]

    for name in ("printf", "format"):
        conn.create_function(name, -1, bounded, deterministic=True)


def _widest(form: str, args: tuple[Any, ...]) -> int:
    """The largest width or precision `form` asks for (`*` takes the largest number argument)."""
    widest = 0
    for width, precision in _SPEC.findall(form):
        for part in (width, precision):
            if part == "*":
                widest = max([widest, *(abs(int(a)) for a in args if isinstance(a, (int, float)) and abs(a) < 2**63)])
            elif part:
                widest = max(widest, int(part))
    return widest
