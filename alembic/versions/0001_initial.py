"""The registry: runs, models, model versions and change events.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.String(20)  # ISO 8601 UTC text, see catalog.registry.schema.UtcTime


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("finished_at", TIME),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("observed_at", TIME, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("catalog_size", sa.Integer),
        sa.Column("free_count", sa.Integer),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("returned", sa.Integer, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("payload_hash", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_observed_at", "runs", ["observed_at"])
    op.create_index("ix_runs_payload_hash", "runs", ["payload_hash"])

    op.create_table(
        "models",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("vendor", sa.Text, nullable=False),
        sa.Column("is_free", sa.Boolean, nullable=False),
        sa.Column("first_seen_free", TIME, nullable=False),
        sa.Column("free_since", TIME, nullable=False),
        sa.Column("last_seen_free", TIME, nullable=False),
        sa.Column("left_at", TIME),
        sa.Column("left_reason", sa.String(20)),
        sa.Column("times_removed", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
    )
    op.create_index("ix_models_vendor", "models", ["vendor"])

    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Text, nullable=False),
        sa.Column("valid_from_run", sa.Integer, nullable=False),
        sa.Column("valid_to_run", sa.Integer),
        sa.Column("valid_from", TIME, nullable=False),
        sa.Column("valid_to", TIME),
        sa.Column("name", sa.Text),
        sa.Column("canonical_slug", sa.Text),
        sa.Column("context_length", sa.Integer),
        sa.Column("top_context_length", sa.Integer),
        sa.Column("max_completion_tokens", sa.Integer),
        sa.Column("input_modalities", sa.JSON),
        sa.Column("output_modalities", sa.JSON),
        sa.Column("supported_parameters", sa.JSON),
        sa.Column("pricing", sa.JSON),
        sa.Column("expiration_date", sa.String(32)),
        sa.Column("created", sa.Integer),
        sa.Column("description", sa.Text),
        sa.Column("hugging_face_id", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name="fk_model_versions_model_id_models"),
        sa.ForeignKeyConstraint(["valid_from_run"], ["runs.id"], name="fk_model_versions_valid_from_run_runs"),
        sa.ForeignKeyConstraint(["valid_to_run"], ["runs.id"], name="fk_model_versions_valid_to_run_runs"),
    )
    op.create_index("ix_model_versions_model_id_valid_from_run", "model_versions", ["model_id", "valid_from_run"])
    op.create_index("ix_model_versions_valid_to_run", "model_versions", ["valid_to_run"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("observed_at", TIME, nullable=False),
        sa.Column("model_id", sa.Text, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(20)),
        sa.Column("field", sa.Text),
        sa.Column("old", sa.JSON),
        sa.Column("new", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_events_run_id_runs"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name="fk_events_model_id_models"),
    )
    op.create_index("ix_events_run_id", "events", ["run_id"])
    op.create_index("ix_events_observed_at", "events", ["observed_at"])
    op.create_index("ix_events_model_id_run_id", "events", ["model_id", "run_id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("model_versions")
    op.drop_table("models")
    op.drop_table("runs")
