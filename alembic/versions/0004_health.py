"""Measured availability: passive health samples, active probe results, and their views.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIME = sa.String(20)  # ISO 8601 UTC text, see catalog.registry.schema.UtcTime

VIEWS = {
    "health_samples": """
        SELECT h.id, h.sampled_at, h.model_id, h.state, h.status, h.endpoints, h.providers,
               h.uptime_5m, h.uptime_30m, h.uptime_1d, h.latency_p50_ms, h.latency_p90_ms,
               h.throughput_p50, h.error, h.run_id
        FROM health_checks h
    """,
    "probe_results": """
        SELECT p.id, p.probed_at, p.model_id, p.outcome, p.http_status, p.ttft_ms, p.total_ms, p.detail
        FROM probes p
        WHERE p.outcome <> 'pending'
    """,
    "model_health_now": """
        SELECT m.id AS model_id, COALESCE(h.state, 'unknown') AS state, h.status, h.endpoints,
               h.providers, h.uptime_5m, h.uptime_30m, h.uptime_1d, h.latency_p50_ms,
               h.latency_p90_ms, h.throughput_p50, h.sampled_at,
               p.outcome AS last_probe_outcome, p.ttft_ms AS last_probe_ttft_ms,
               p.probed_at AS last_probe_at
        FROM models m
        LEFT JOIN health_checks h ON h.id = (
            SELECT max(x.id) FROM health_checks x WHERE x.model_id = m.id)
        LEFT JOIN probes p ON p.id = (
            SELECT max(y.id) FROM probes y WHERE y.model_id = m.id AND y.outcome <> 'pending')
        WHERE m.is_free
    """,
}


def upgrade() -> None:
    op.create_table(
        "health_checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sampled_at", TIME, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", name="fk_health_checks_run_id_runs")),
        sa.Column("model_id", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("endpoints", sa.Integer),
        sa.Column("providers", sa.JSON),
        sa.Column("uptime_5m", sa.Float),
        sa.Column("uptime_30m", sa.Float),
        sa.Column("uptime_1d", sa.Float),
        sa.Column("latency_p50_ms", sa.Float),
        sa.Column("latency_p90_ms", sa.Float),
        sa.Column("throughput_p50", sa.Float),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_health_checks"),
    )
    op.create_index("ix_health_checks_model_id_sampled_at", "health_checks", ["model_id", "sampled_at"])
    op.create_index("ix_health_checks_sampled_at", "health_checks", ["sampled_at"])
    op.create_table(
        "probes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("probed_at", TIME, nullable=False),
        sa.Column("model_id", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("ttft_ms", sa.Float),
        sa.Column("total_ms", sa.Float),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_probes"),
    )
    op.create_index("ix_probes_probed_at", "probes", ["probed_at"])
    op.create_index("ix_probes_model_id", "probes", ["model_id"])
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body.strip()}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
    op.drop_table("probes")
    op.drop_table("health_checks")
