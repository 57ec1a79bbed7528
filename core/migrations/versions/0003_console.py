"""Console: a covering index for per-tenant run figures over a time window.

The Overview's worst-tenants chart and the Tenants table group a day of runs by
tenant and status; with (user_id, started_at, status) SQLite answers from the
index alone instead of reading a million table rows.

Revision ID: 0003_console
Revises: 0001
"""

from alembic import op

revision = "0003_console"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_job_runs_user_started_status",
        "job_runs",
        ["user_id", "started_at", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_job_runs_user_started_status", table_name="job_runs")
