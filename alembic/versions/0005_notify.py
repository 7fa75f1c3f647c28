"""The notification outbox: one row per digest (or failure alert) per target, written in the same
transaction as the sync it reports, marked delivered only once the target accepted it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIME = sa.String(20)  # ISO 8601 UTC text, see catalog.registry.schema.UtcTime


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target_id", sa.String(16), nullable=False),
        sa.Column("target_kind", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", name="fk_notifications_run_id_runs"), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_attempt_at", TIME),
        sa.Column("delivered_at", TIME),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("target_id", "run_id", "kind", name="uq_notifications_target_id_run_id_kind"),
    )
    op.create_index("ix_notifications_status_target_id", "notifications", ["status", "target_id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_status_target_id", "notifications")
    op.drop_table("notifications")
