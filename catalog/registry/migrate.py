"""Schema upgrades through Alembic, from a checkout or an installed wheel.

The migration scripts ship inside the wheel as `catalog/_alembic` (see pyproject's force-include);
an editable install or a checkout uses the top-level `alembic/` folder instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.errors import RegistryError
from catalog.registry import sql

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from catalog.registry.sql import AnyConnection

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the catalog package
# The newest migration. Readers compare against it without importing Alembic (~80 ms of start-up);
# tests/test_schema.py checks that it matches the scripts.
HEAD_REVISION = "0006"


def script_location() -> Path:
    for candidate in (PACKAGE_DIR / "_alembic", PACKAGE_DIR.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise RegistryError("the registry's migration scripts are missing from this installation; reinstall catalog")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None  # the migration scripts start at 0001
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in _scripts().walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def check_not_newer(revision: str | None, where: str) -> None:
    if revision is not None and revision not in known_revisions():
        raise RegistryError(
            f"the registry at {where} has schema revision {revision}, newer than this catalog knows; "
            "upgrade catalog (pip install -U ...) or point --db at another registry"
        )


def upgrade(connection: Connection, where: str) -> bool:
    """Bring the schema to head inside the caller's transaction; True when anything ran."""
    if stored_revision(connection) == HEAD_REVISION:  # the usual case, without importing Alembic (~100 ms)
        return False
    from alembic import command

    revision = current_revision(connection)
    check_not_newer(revision, where)
    if revision == head_revision():
        return False
    command.upgrade(alembic_config(connection), "head")
    return True


def stored_revision(connection: AnyConnection) -> str | None:
    """The schema's revision without Alembic, on a SQLAlchemy or a plain sqlite3 connection."""

    if not sql.has_table(connection, "alembic_version"):
        return None
    revision: str | None = sql.scalar(connection, "SELECT version_num FROM alembic_version")
    return revision


def check_readable(connection: AnyConnection, where: str) -> None:
    """Readers cannot migrate: say what to do when the schema is missing, older or newer."""
    revision = stored_revision(connection)
    if revision == HEAD_REVISION:
        return
    if revision is None:
        raise RegistryError(
            f"{where} is not a catalog registry (no schema); run `catalog sync` or `catalog db upgrade` first"
        )
    check_not_newer(revision, where)
    if revision != head_revision():
        raise RegistryError(f"the registry at {where} has an older schema; run `catalog db upgrade --db {where}`")
