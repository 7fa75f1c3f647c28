"""Alembic environment for the registry.

Run by catalog.migrate with a live connection in `config.attributes["connection"]`; also usable
by developers (`alembic -c alembic.ini upgrade head` with CATALOG_DB set). Never calls fileConfig:
that would take over the application's logging.
"""

from sqlalchemy import create_engine

from alembic import context
from catalog.registry.schema import Base

config = context.config
target_metadata = Base.metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # developer use from a checkout
    from catalog.registry.db import url_of
    from catalog.settings import env_db

    engine = create_engine(config.get_main_option("sqlalchemy.url") or url_of(env_db()))
    with engine.begin() as conn:
        run(conn)
