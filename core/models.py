"""SQLModel tables. The Alembic migrations in core/migrations create them.

Every row that belongs to a tenant carries its owner (`user_id` / `owner`), so
isolation can be enforced by filtering, and deleting a tenant is a set of deletes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

CRON_STATUSES = ("active", "paused")
TENANT_STATUSES = ("active", "needs_reauth", "disabled")
MAIL_SOURCES = ("gmail", "folder")
RUN_STATUSES = ("running", "ok", "error", "timeout", "skipped", "abandoned")
DEFAULT_SCHEDULE = "* * * * *"


def _time(nullable: bool = True, **kw: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, **kw)


def _created() -> Any:
    return Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"server_default": sa.func.now()},
    )


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(SQLModel, table=True):
    """A tenant: one person whose mailbox the assistant works on."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(_in("status", TENANT_STATUSES), name="ck_users_status"),
        sa.CheckConstraint(_in("mail_source", MAIL_SOURCES), name="ck_users_source"),
    )

    user_id: str = Field(primary_key=True)
    email: str = Field(unique=True, nullable=False)
    display_name: str = Field(default="", nullable=False)
    mail_source: str = Field(default="gmail", nullable=False)
    mailbox_path: str | None = Field(default=None)
    release_per_tick: int | None = Field(default=None)
    status: str = Field(default="active", nullable=False)
    is_demo: bool = Field(default=False, nullable=False)
    prefs: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    cursor: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class UserCron(SQLModel, table=True):
    """A tenant's schedule. `id` is the row's key; `cron_id` the engine's handle."""

    __tablename__ = "user_crons"
    __table_args__ = (
        sa.CheckConstraint(_in("status", CRON_STATUSES), name="ck_user_crons_status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: str = Field(sa_type=sa.Text, unique=True, nullable=False)
    cron_id: str = Field(sa_type=sa.Text, nullable=False)
    email: str = Field(sa_type=sa.Text, nullable=False)
    status: str = Field(
        default="active", sa_type=sa.Text, sa_column_kwargs={"server_default": "active"}
    )
    schedule: str = Field(
        default=DEFAULT_SCHEDULE,
        sa_type=sa.Text,
        sa_column_kwargs={"server_default": DEFAULT_SCHEDULE},
    )
    timezone: str = Field(default="UTC", sa_type=sa.Text, nullable=False)
    pause_reason: str | None = Field(default=None, sa_type=sa.Text)
    resume_at: datetime | None = _time()
    consecutive_failures: int = Field(
        default=0, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
    created_at: datetime = _created()
    updated_at: datetime = _created()


class GmailCredential(SQLModel, table=True):
    __tablename__ = "gmail_credentials"

    user_id: str = Field(
        primary_key=True,
        sa_column_args=[sa.ForeignKey("users.user_id", ondelete="CASCADE")],
    )
    token_encrypted: str = Field(nullable=False)
    scopes: list[str] = Field(default_factory=list, sa_type=JSONType)
    expiry: datetime | None = _time()
    updated_at: datetime = _created()


class JobRun(SQLModel, table=True):
    """One execution of a tenant's tick. Its insert is the claim on that tick."""

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.UniqueConstraint("user_cron_id", "scheduled_for", name="uq_job_runs_tick"),
        sa.CheckConstraint(_in("status", RUN_STATUSES), name="ck_job_runs_status"),
        sa.Index("ix_job_runs_user_started", "user_id", "started_at"),
        # Covers the per-tenant figures of the console (migration 0003_console).
        sa.Index("ix_job_runs_user_started_status", "user_id", "started_at", "status"),
        sa.Index("ix_job_runs_status_started", "status", "started_at"),
        sa.Index("ix_job_runs_started", "started_at"),
        # At most one running run per tenant, whoever started it.
        sa.Index(
            "uq_job_runs_one_running",
            "user_id",
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        ),
    )

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    )
    user_id: str = Field(nullable=False)
    user_cron_id: uuid.UUID | None = Field(
        default=None,
        sa_column_args=[sa.ForeignKey("user_crons.id", ondelete="SET NULL")],
    )
    trigger: str = Field(default="schedule", nullable=False)
    scheduled_for: datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_at: datetime = _created()
    finished_at: datetime | None = _time()
    status: str = Field(default="running", nullable=False)
    emails_fetched: int = Field(default=0, nullable=False)
    threads_created: int = Field(default=0, nullable=False)
    duration_s: float | None = Field(default=None)
    error_kind: str | None = Field(default=None)
    error_message: str | None = Field(default=None)
    holder: str | None = Field(default=None)


class Thread(SQLModel, table=True):
    """An email thread as a LangGraph thread, owned by one tenant."""

    __tablename__ = "threads"
    __table_args__ = (
        sa.UniqueConstraint("owner", "source_thread_id", name="uq_threads_source"),
        sa.Index("ix_threads_owner_updated", "owner", "updated_at"),
        sa.Index("ix_threads_owner_created", "owner", "created_at"),
    )

    thread_id: str = Field(primary_key=True)
    owner: str | None = Field(default=None)
    source_thread_id: str = Field(nullable=False)
    subject: str = Field(default="", nullable=False)
    sender: str = Field(default="", nullable=False)
    triage: str | None = Field(default=None)
    reason: str | None = Field(default=None)
    status: str = Field(default="new", nullable=False)
    draft: str | None = Field(default=None)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class ProcessedMessage(SQLModel, table=True):
    """The exactly-once guard: a message is handled once per owner."""

    __tablename__ = "processed_messages"

    owner: str = Field(primary_key=True)
    message_id: str = Field(primary_key=True)
    thread_id: str | None = Field(default=None)
    outcome: str = Field(default="done", nullable=False)
    error: str | None = Field(default=None)
    processed_at: datetime = _created()


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_user_at", "user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _created()
    actor: str = Field(nullable=False)
    action: str = Field(nullable=False)
    user_id: str | None = Field(default=None)
    cron_id: str | None = Field(default=None)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class SchedulerLease(SQLModel, table=True):
    """Which process runs scheduled jobs for this database, until when."""

    __tablename__ = "scheduler_leases"

    name: str = Field(primary_key=True)
    holder: str = Field(nullable=False)
    acquired_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class OAuthState(SQLModel, table=True):
    """A pending Gmail connect: single use, short-lived, kept server side."""

    __tablename__ = "oauth_states"

    state: str = Field(primary_key=True)
    code_verifier_encrypted: str = Field(nullable=False)
    user_id: str | None = Field(default=None)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = _time()


class TenantInfo(SQLModel):
    """A tenant as services hand it around: plain values, no live session."""

    user_id: str
    email: str
    display_name: str = ""
    mail_source: str = "gmail"
    mailbox_path: str | None = None
    release_per_tick: int | None = None
    status: str = "active"
    is_demo: bool = False
    prefs: dict[str, Any] = {}
    cursor: dict[str, Any] = {}
