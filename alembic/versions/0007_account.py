"""The account's own view, read with the API key after a sync: when it was read, the free-model
requests left that day, and the free models the account may not use (absent from /models/user).
The key itself is never stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIME = sa.String(20)  # ISO 8601 UTC text, see catalog.registry.schema.UtcTime


def upgrade() -> None:
    op.create_table(
        "account_checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", name="fk_account_checks_run_id_runs")),
        sa.Column("read_at", TIME, nullable=False),
        sa.Column("models_read", sa.Boolean, nullable=False),
        sa.Column("usable_count", sa.Integer),
        sa.Column("blocked_count", sa.Integer),
        sa.Column("free_requests_left", sa.Integer),
        sa.Column("free_requests_limit", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_account_checks"),
    )
    op.create_index("ix_account_checks_run_id", "account_checks", ["run_id"])
    op.create_table(
        "account_blocked",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "check_id",
            sa.Integer,
            sa.ForeignKey("account_checks.id", name="fk_account_blocked_check_id_account_checks"),
            nullable=False,
        ),
        sa.Column("model_id", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_blocked"),
    )
    op.create_index("ix_account_blocked_check_id", "account_blocked", ["check_id"])


def downgrade() -> None:
    op.drop_index("ix_account_blocked_check_id", "account_blocked")
    op.drop_table("account_blocked")
    op.drop_index("ix_account_checks_run_id", "account_checks")
    op.drop_table("account_checks")
