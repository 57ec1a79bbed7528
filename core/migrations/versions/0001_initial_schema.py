"""Initial schema: tenants, crons, credentials, runs, threads, audit, leases.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TZ = sa.DateTime(timezone=True)
NOW = sa.func.now()

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, server_default=NOW, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("cron_id", sa.String(), nullable=True),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_user_at", ["user_id", "at"], unique=False
        )

    op.create_table(
        "oauth_states",
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("code_verifier_encrypted", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("created_at", TZ, server_default=NOW, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("state"),
    )
    op.create_table(
        "processed_messages",
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("thread_id", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("processed_at", TZ, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("owner", "message_id"),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("acquired_at", TZ, server_default=NOW, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "threads",
        sa.Column("thread_id", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("source_thread_id", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("sender", sa.String(), nullable=False),
        sa.Column("triage", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("draft", sa.String(), nullable=True),
        sa.Column("created_at", TZ, server_default=NOW, nullable=False),
        sa.Column("updated_at", TZ, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("thread_id"),
        sa.UniqueConstraint("owner", "source_thread_id", name="uq_threads_source"),
    )
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_threads_owner_created", ["owner", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_threads_owner_updated", ["owner", "updated_at"], unique=False
        )

    op.create_table(
        "user_crons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("cron_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("schedule", sa.Text(), server_default="* * * * *", nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("resume_at", TZ, nullable=True),
        sa.Column(
            "consecutive_failures", sa.Integer(), server_default="0", nullable=False
        ),
        sa.Column("created_at", TZ, server_default=NOW, nullable=False),
        sa.Column("updated_at", TZ, server_default=NOW, nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'paused')", name="ck_user_crons_status"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("mail_source", sa.String(), nullable=False),
        sa.Column("mailbox_path", sa.String(), nullable=True),
        sa.Column("release_per_tick", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("prefs", JSON, nullable=False),
        sa.Column("cursor", JSON, nullable=False),
        sa.Column("created_at", TZ, server_default=NOW, nullable=False),
        sa.Column("updated_at", TZ, server_default=NOW, nullable=False),
        sa.CheckConstraint(
            "mail_source IN ('gmail', 'folder')", name="ck_users_source"
        ),
        sa.CheckConstraint(
            "status IN ('active', 'needs_reauth', 'disabled')", name="ck_users_status"
        ),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "gmail_credentials",
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("token_encrypted", sa.String(), nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("expiry", TZ, nullable=True),
        sa.Column("updated_at", TZ, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "job_runs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("user_cron_id", sa.Uuid(), nullable=True),
        sa.Column("trigger", sa.String(), nullable=False),
        sa.Column("scheduled_for", TZ, nullable=False),
        sa.Column("started_at", TZ, server_default=NOW, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("emails_fetched", sa.Integer(), nullable=False),
        sa.Column("threads_created", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("error_kind", sa.String(), nullable=True),
        sa.Column("error_message", sa.String(), nullable=True),
        sa.Column("holder", sa.String(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'error', 'timeout', 'skipped', 'abandoned')",
            name="ck_job_runs_status",
        ),
        sa.ForeignKeyConstraint(
            ["user_cron_id"], ["user_crons.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_cron_id", "scheduled_for", name="uq_job_runs_tick"),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_started", ["started_at"], unique=False)
        batch_op.create_index(
            "ix_job_runs_status_started", ["status", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_job_runs_user_started", ["user_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "uq_job_runs_one_running",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_job_runs_one_running",
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )
        batch_op.drop_index("ix_job_runs_user_started")
        batch_op.drop_index("ix_job_runs_status_started")
        batch_op.drop_index("ix_job_runs_started")

    op.drop_table("job_runs")
    op.drop_table("gmail_credentials")
    op.drop_table("users")
    op.drop_table("user_crons")
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_owner_updated")
        batch_op.drop_index("ix_threads_owner_created")

    op.drop_table("threads")
    op.drop_table("scheduler_leases")
    op.drop_table("processed_messages")
    op.drop_table("oauth_states")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_user_at")

    op.drop_table("audit_events")
