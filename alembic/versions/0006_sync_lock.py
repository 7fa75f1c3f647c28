"""The sync lock on PostgreSQL: a table that only writers can lock (catalog.registry.pglock).

A sync holds `LOCK TABLE sync_lock IN EXCLUSIVE MODE` for its whole run. That mode needs UPDATE,
DELETE or TRUNCATE on the table, so a reader role (SELECT only; nothing is granted here) can
neither take the lock nor block it, unlike the advisory lock it replaces. The table holds no rows.
SQLite gets it too, so both engines share one schema; its syncs lock a file instead.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# IF NOT EXISTS: on PostgreSQL the lock creates the table before it migrates (it must lock first).
CREATE = "CREATE TABLE IF NOT EXISTS sync_lock (id INTEGER NOT NULL, CONSTRAINT pk_sync_lock PRIMARY KEY (id))"


def upgrade() -> None:
    op.execute(CREATE)


def downgrade() -> None:
    # Kept: on PostgreSQL the migrating sync holds the lock on this very table from another
    # connection, so a DROP would wait on it forever; an older catalog never looks at it.
    pass
