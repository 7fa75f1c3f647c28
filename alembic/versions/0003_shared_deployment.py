"""Shared deployment: one open version per model, wide integers, and the clock of each live sync.

- A partial unique index on `model_versions(model_id) WHERE valid_to_run IS NULL`: two writers
  racing past every other guard get an error, never a model with two open versions.
- `runs.clock_at`: the host's clock when a live sync's answer arrived. It differs from
  `observed_at` when that clock read earlier than the newest stored run (see catalog.jobs.sync).
- PostgreSQL's `integer` stops at 2^31 - 1; counts of tokens and Unix times are `bigint` there
  (SQLite's INTEGER is 64-bit already).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN_VERSION = "ux_model_versions_open"
WIDE = ("context_length", "top_context_length", "max_completion_tokens", "created")


def _views() -> dict[str, str]:
    """0002's view bodies: PostgreSQL cannot change a column's type under a view, so the one view
    that reads these columns is dropped and made again, unchanged."""
    spec = importlib.util.spec_from_file_location("views_0002", Path(__file__).with_name("0002_views.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VIEWS


def _retype(to, frm) -> None:
    body = _views()["free_models_now"].strip()
    op.execute("DROP VIEW free_models_now")
    for column in WIDE:
        op.alter_column("model_versions", column, type_=to, existing_type=frm)
    op.execute(f"CREATE VIEW free_models_now AS {body}")


def upgrade() -> None:
    op.create_index(
        OPEN_VERSION,
        "model_versions",
        ["model_id"],
        unique=True,
        sqlite_where=sa.text("valid_to_run IS NULL"),
        postgresql_where=sa.text("valid_to_run IS NULL"),
    )
    op.add_column("runs", sa.Column("clock_at", sa.String(20)))
    if op.get_bind().dialect.name == "postgresql":
        _retype(sa.BigInteger, sa.Integer)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _retype(sa.Integer, sa.BigInteger)
    # Plain DROP COLUMN (SQLite 3.35+): batch mode would rebuild `runs` under the views that read it.
    op.execute("ALTER TABLE runs DROP COLUMN clock_at")
    op.drop_index(OPEN_VERSION, "model_versions")
