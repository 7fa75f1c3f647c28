"""What `--db` names: a SQLite path or a SQLAlchemy URL, told apart, resolved and described
without its password. Stdlib only (SQLAlchemy only to describe a URL), so every module of the
registry can use it without importing an engine."""

from __future__ import annotations

from pathlib import Path

PG_SCHEMES = ("postgresql", "postgres")
# The extra, from a clone of catalog (the package is not published) and, later, from PyPI.
PG_DRIVER_HINT = (
    "PostgreSQL needs its driver: pip install '.[postgres]' in catalog's clone "
    "(or 'openrouter-free-catalog[postgres]' once published)"
)


def scheme_of(db: str) -> str:
    """`sqlite`, `postgresql`, … for a URL; `sqlite` for a plain path."""
    if "://" not in db:
        return "sqlite"
    return db.partition("://")[0].split("+", 1)[0].lower()


def sqlite_path(db: str) -> Path | None:
    """The file behind a path or a SQLAlchemy sqlite URL; None for other URLs and in-memory ones."""
    if "://" not in db:
        return Path(db).expanduser() if db and db != ":memory:" else None
    if scheme_of(db) != "sqlite":
        return None
    rest = db.partition("://")[2]
    # sqlite:///rel.db -> "/rel.db" after the authority (empty); sqlite:////abs.db -> "//abs.db".
    if not rest.startswith("/"):
        return None
    database = rest[1:].split("?", 1)[0]
    if not database or database == ":memory:":
        return None
    return Path(database).expanduser()


def url_of(db: str) -> str:
    """A path or a SQLAlchemy URL -> a SQLAlchemy URL (paths become absolute sqlite URLs;
    `postgresql://` and `postgres://` mean psycopg 3, the driver of the `[postgres]` extra)."""
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().resolve()}"
    scheme, _, rest = db.partition("://")
    if scheme.lower() in PG_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return db


def describe(db: str) -> str:
    """How to name the registry in a message: the path, or the URL without its password."""
    if "://" not in db:
        return db
    from sqlalchemy.engine import make_url

    try:
        return make_url(db).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: name its scheme only, it may hold a password
        return f"{scheme_of(db)}://…"
