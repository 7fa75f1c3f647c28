"""Connecting to a PostgreSQL registry with psycopg 3: the driver check, connection settings that
bound a vanished peer, read-only engines, and driver errors as one line."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from catalog.errors import CatalogError, RegistryError
from catalog.registry.locations import PG_DRIVER_HINT, describe

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import Engine

# A peer that vanishes without closing its socket (power loss, network cut) is noticed after about
# idle + interval * count = 30 + 10 * 3 s when the line is quiet, and after tcp_user_timeout when
# sent data goes unacknowledged; the server then ends the backend and frees its locks.
KEEPALIVES: dict[str, Any] = {  # libpq parameters, passed as psycopg.connect's keyword arguments
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}
SERVER_KEEPALIVES: dict[str, Any] = {  # libpq parameters, passed as psycopg.connect's keyword arguments
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "60000",
}
CONNECT_TIMEOUT = 10


def driver() -> ModuleType:
    """psycopg, or a one-line hint to install it."""
    try:
        import psycopg
    except ImportError:
        raise RegistryError(PG_DRIVER_HINT) from None
    return psycopg


def conninfo(url: str) -> str:
    """The libpq URI for a SQLAlchemy `postgresql+psycopg://` URL (password kept: only for connecting)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def connect(url: str, *, application_name: str, where: str) -> psycopg.Connection[tuple[Any, ...]]:
    """One psycopg connection with TCP keepalives on both ends and our application_name."""
    driver()  # a one-line hint when psycopg is missing
    import psycopg

    try:
        conn = psycopg.connect(
            conninfo(url), application_name=application_name[:63], connect_timeout=CONNECT_TIMEOUT, **KEEPALIVES
        )
    except psycopg.Error as exc:
        raise _one_line(exc, where) from None
    with conn.cursor() as cur:
        # The server's side of keepalives: it frees a vanished client's locks (ignored on Unix sockets).
        for name, value in SERVER_KEEPALIVES.items():
            cur.execute("SELECT set_config(%s, %s, false)", (name, value))
    conn.commit()
    return conn


def write_engine(url: str, *, application_name: str) -> Engine:
    """An engine for writes outside the sync lock, one new connection each time."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    def creator() -> psycopg.Connection[tuple[Any, ...]]:
        return connect(url, application_name=application_name, where=describe(url))

    return create_engine("postgresql+psycopg://", creator=creator, poolclass=NullPool)


def read_engine(url: str, *, timeout: float | None) -> Engine:
    """An engine whose transactions are READ ONLY, with statement_timeout from `timeout`."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    driver()  # a one-line hint when psycopg is missing (SQLAlchemy would raise ModuleNotFoundError)

    def creator() -> psycopg.Connection[tuple[Any, ...]]:
        conn = connect(url, application_name="catalog reader", where=describe(url))
        if timeout is not None:
            with conn.cursor() as cur:
                cur.execute("SELECT set_config('statement_timeout', %s, false)", (f"{int(timeout * 1000)}ms",))
            conn.commit()
        conn.read_only = True
        return conn

    return create_engine("postgresql+psycopg://", creator=creator, poolclass=NullPool).execution_options(
        postgresql_readonly=True
    )


def error(original: BaseException, where: str) -> CatalogError | None:
    """One line for a psycopg error; None when it is not one."""
    try:
        import psycopg
    except ImportError:
        return None
    if not isinstance(original, psycopg.Error):
        return None
    return _one_line(original, where)


def _one_line(original: psycopg.Error, where: str) -> RegistryError:
    import psycopg
    from psycopg import errors as pgerrors

    text = " ".join(str(original).split()) or type(original).__name__
    if isinstance(original, pgerrors.ReadOnlySqlTransaction):  # a reader role (default_transaction_read_only)
        return RegistryError(
            f"the role at {where} can only read the registry ({text}); syncs need the writer's URL "
            "(see docs/postgresql.md)"
        )
    if isinstance(original, pgerrors.UniqueViolation):
        return RegistryError(
            f"the registry at {where} refused a duplicate write ({text}); another writer changed it at the same "
            "time, nothing was stored: run the sync again"
        )
    if isinstance(original, pgerrors.InsufficientPrivilege):
        return RegistryError(  # a reader's sync is refused here, at the sync lock, before any write
            f"the role at {where} may not write the registry ({text}); it can only read it: syncs need the "
            "writer's URL, the role that owns the registry (see docs/postgresql.md)"
        )
    if isinstance(original, pgerrors.QueryCanceled):
        return RegistryError(f"a statement at {where} ran out of time ({text})")
    if isinstance(original, psycopg.OperationalError):
        return RegistryError(
            f"cannot reach the registry at {where}: {text}; check the URL, the server and the credentials"
        )
    return RegistryError(f"registry error at {where}: {text}")
