"""Crons and runs as the CLI and the HTTP API print them: one shape for both.

Times are ISO 8601 strings with the offset of the cron's own timezone, so a script
reads "09:00+01:00" where the tenant expects nine o'clock.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import col, select

from core import cron_expr, crons, jobs, tenants
from core.db import session_scope
from core.errors import UnknownTenant
from core.models import User
from core.settings import Settings
from core.viewer import Viewer

PAGE = 200


class RunView(BaseModel):
    status: str
    emails_fetched: int
    threads_created: int
    duration_s: float | None
    error: str | None


class CronView(BaseModel):
    user_id: str
    cron_id: str
    email: str
    status: str
    schedule: str
    description: str
    timezone: str
    next_run: str | None
    tenant_status: str | None
    pause_reason: str | None = None
    resume_at: str | None = None


class CronStatusView(CronView):
    last_run: RunView | None


def run_view(run: jobs.RunInfo) -> RunView:
    return RunView(
        status=run.status,
        emails_fetched=run.emails_fetched,
        threads_created=run.threads_created,
        duration_s=run.duration_s,
        error=run.error_message,
    )


def _local_iso(moment: datetime, timezone: str) -> str:
    return moment.astimezone(cron_expr.get_zone(timezone)).isoformat()


def _next_run(info: crons.CronInfo) -> str | None:
    # A paused cron fires again only when it resumes by itself at `resume_at`.
    if info.status == "paused" and info.resume_at is None:
        return None
    if not info.next_runs:
        return None
    return _local_iso(info.next_runs[0], info.timezone)


def cron_view(info: crons.CronInfo, *, tenant_status: str | None) -> CronView:
    return CronView(
        user_id=info.user_id,
        cron_id=info.cron_id,
        email=info.email,
        status=info.status,
        schedule=info.schedule,
        description=info.description,
        timezone=info.timezone,
        next_run=_next_run(info),
        tenant_status=tenant_status,
        pause_reason=info.pause_reason,
        resume_at=_local_iso(info.resume_at, info.timezone) if info.resume_at else None,
    )


def known_user_id(user_id: str) -> str:
    """The id itself; UnknownTenant when it cannot be anyone's id, without a query."""
    if not tenants.USER_ID_PATTERN.fullmatch(user_id or ""):
        raise UnknownTenant(user_id)
    return user_id


def _tenant_statuses(user_ids: list[str], settings: Settings) -> dict[str, str]:
    if not user_ids:
        return {}
    with session_scope(settings) as session:
        rows = session.exec(
            select(User.user_id, User.status).where(col(User.user_id).in_(user_ids))
        )
        return dict(rows.all())


def _last_run(user_id: str, settings: Settings) -> RunView | None:
    latest = jobs.list_runs(
        viewer=Viewer.admin(), user_id=user_id, limit=1, settings=settings
    )
    return run_view(latest[0]) if latest else None


def cron_of(*, user_id: str, settings: Settings) -> CronView:
    """The tenant's cron without its last run: what a change returns."""
    info = crons.get_cron(
        user_id=known_user_id(user_id), viewer=Viewer.admin(), settings=settings
    )
    statuses = _tenant_statuses([user_id], settings)
    return cron_view(info, tenant_status=statuses.get(user_id))


def cron_status(*, user_id: str, viewer: Viewer, settings: Settings) -> CronStatusView:
    """The tenant's cron and their latest run (null before the first one)."""
    info = crons.get_cron(
        user_id=known_user_id(user_id), viewer=viewer, settings=settings
    )
    statuses = _tenant_statuses([user_id], settings)
    return _with_last_run(info, statuses.get(user_id), settings)


def _with_last_run(
    info: crons.CronInfo, tenant_status: str | None, settings: Settings
) -> CronStatusView:
    view = cron_view(info, tenant_status=tenant_status)
    return CronStatusView(
        **view.model_dump(), last_run=_last_run(info.user_id, settings)
    )


def cron_statuses(
    *, viewer: Viewer, settings: Settings, status: str | None = None
) -> list[CronStatusView]:
    """Every cron the viewer may see, by user id, each with its latest run."""
    found: list[crons.CronInfo] = []
    while True:
        page = crons.list_crons(
            viewer=viewer,
            status=status,
            offset=len(found),
            limit=PAGE,
            settings=settings,
        )
        found.extend(page)
        if len(page) < PAGE:
            break
    statuses = _tenant_statuses([info.user_id for info in found], settings)
    return [_with_last_run(i, statuses.get(i.user_id), settings) for i in found]
