"""Stable views for people who query the registry directly (sqlite3, Datasette, notebooks).

The tables may change between versions; these views keep their names and columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VIEWS = {
    "free_models_now": """
        SELECT m.id, v.name, m.vendor, v.context_length, v.top_context_length,
               v.max_completion_tokens, v.input_modalities, v.output_modalities,
               v.supported_parameters, v.pricing, v.expiration_date, v.created,
               v.canonical_slug, v.hugging_face_id, v.description,
               m.first_seen_free, m.free_since, m.last_seen_free, m.times_removed
        FROM models m
        JOIN model_versions v ON v.model_id = m.id AND v.valid_to_run IS NULL
        WHERE m.is_free
    """,
    "change_events": """
        SELECT e.id, e.observed_at, e.model_id, e.kind, e.reason, e.field, e.old, e.new,
               e.run_id, r.started_at AS run_started_at, r.finished_at AS run_finished_at,
               r.source AS run_source
        FROM events e
        JOIN runs r ON r.id = e.run_id
    """,
    "sync_runs": """
        SELECT id, started_at, finished_at, duration_ms, observed_at, source, status, error,
               catalog_size, free_count, added, returned, removed, changed, skipped, payload_hash
        FROM runs
    """,
}


def upgrade() -> None:
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body.strip()}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
