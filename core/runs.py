"""Run rows: how ticks are shown, recorded when skipped, and cleaned up.

The job runner writes runs as it claims and finishes ticks; this module holds what
the scheduler and the console need around those rows.
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, func, select

from core.db import session_scope
from core.models import JobRun
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 300
# Anything shaped like a credential is cut out of stored and logged messages.
SECRET_PATTERN = re.compile(
    r"(ya29\.[\w.-]+|1//[\w.-]+|Bearer\s+\S+|"
    r"(access|refresh|id)_token[\"']?\s*[:=]\s*[\"']?[^\s\"',}]+|sk-[\w-]{10,})",
    re.IGNORECASE,
)


class RunInfo(SQLModel):
    id: int
    user_id: str
    user_cron_id: uuid.UUID | None = None
    trigger: str
    scheduled_for: datetime
    started_at: datetime
    finished_at: datetime | None = None
    status: str
    emails_fetched: int = 0
    threads_created: int = 0
    duration_s: float | None = None
    error_kind: str | None = None
    error_message: str | None = None
    holder: str | None = None


def to_info(row: JobRun) -> RunInfo:
    return RunInfo.model_validate(row, from_attributes=True)


def one_line(message: str) -> str:
    """The first line of a message, short, with anything token-like removed."""
    cleaned = SECRET_PATTERN.sub("[redacted]", str(message))
    first = " ".join(cleaned.strip().splitlines()[:1]) or "no message"
    return first[:MESSAGE_LIMIT]


def redacted_traceback(err: BaseException) -> str:
    """The whole traceback of `err`, with anything token-like removed, for the log."""
    text = "".join(traceback.format_exception(err))
    return SECRET_PATTERN.sub("[redacted]", text).rstrip()


def record_skipped(
    *,
    user_id: str,
    user_cron_id: uuid.UUID | None,
    scheduled_for: datetime,
    kind: str,
    reason: str,
    settings: Settings,
    holder: str,
) -> RunInfo | None:
    """A `skipped` run row for a tick that will not run; None if already recorded."""
    now = utcnow()
    row = JobRun(
        user_id=user_id,
        user_cron_id=user_cron_id,
        trigger="schedule",
        scheduled_for=scheduled_for,
        started_at=now,
        finished_at=now,
        duration_s=0.0,
        status="skipped",
        error_kind=kind,
        error_message=one_line(reason),
        holder=holder,
    )
    try:
        with session_scope(settings) as session:
            session.add(row)
            session.flush()
            info = to_info(row)
    except IntegrityError:
        return None
    log.warning("tick %s of tenant %s skipped: %s", scheduled_for, user_id, reason)
    return info


def list_runs(
    *,
    viewer: Viewer,
    user_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
    settings: Settings | None = None,
) -> list[RunInfo]:
    """Runs the viewer may see, newest first."""
    query = select(JobRun)
    if not viewer.is_admin:
        query = query.where(JobRun.user_id == viewer.user_id)
    if user_id is not None:
        query = query.where(JobRun.user_id == user_id)
    if status is not None:
        query = query.where(JobRun.status == status)
    if since is not None:
        query = query.where(col(JobRun.started_at) >= since)
    if until is not None:
        query = query.where(col(JobRun.started_at) < until)
    query = query.order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc())
    with session_scope(settings) as session:
        rows = session.exec(query.offset(offset).limit(limit))
        return [to_info(row) for row in rows]


def mark_abandoned(*, holder: str, settings: Settings) -> int:
    """Close the `running` rows of a process that died; returns how many."""
    with session_scope(settings) as session:
        result = session.connection().execute(
            sa.update(JobRun)
            .where(col(JobRun.status) == "running", col(JobRun.holder) == holder)
            .values(
                status="abandoned",
                finished_at=utcnow(),
                error_kind="abandoned",
                error_message=f"The scheduler process {holder} stopped during the run.",
            )
        )
    return result.rowcount


def prune_runs(*, settings: Settings, now: datetime | None = None) -> int:
    """Delete finished runs older than RUN_RETENTION_DAYS; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=settings.run_retention_days)
    with session_scope(settings) as session:
        result = session.connection().execute(
            sa.delete(JobRun).where(
                col(JobRun.started_at) < cutoff, col(JobRun.status) != "running"
            )
        )
    return result.rowcount


def last_ticks(settings: Settings) -> dict[uuid.UUID, datetime]:
    query = (
        select(JobRun.user_cron_id, func.max(JobRun.scheduled_for))
        .where(JobRun.trigger == "schedule", col(JobRun.user_cron_id).is_not(None))
        .group_by(col(JobRun.user_cron_id))
    )
    with session_scope(settings) as session:
        return {cron_id: when for cron_id, when in session.exec(query) if cron_id}


def recent_skips(settings: Settings) -> tuple[int, int]:
    since = utcnow() - timedelta(hours=1)
    query = (
        select(JobRun.error_kind, func.count())
        .where(JobRun.status == "skipped", col(JobRun.started_at) >= since)
        .group_by(JobRun.error_kind)
    )
    with session_scope(settings) as session:
        counts = dict(session.exec(query).all())
    missed = counts.pop("missed", 0)
    return missed, sum(counts.values())
