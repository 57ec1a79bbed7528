"""The cron service: the one place that creates, changes and deletes tenants' crons.

Every change is audited with the state before and after, then announced: in this
process through `core.changes`, to other processes through `user_crons.updated_at`,
which `version()` summarises cheaply for them to poll.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from core import audit, changes, cron_expr, tenants
from core.db import session_scope
from core.errors import InvalidInput, UnknownTenant
from core.models import CRON_STATUSES, DEFAULT_SCHEDULE, User, UserCron
from core.settings import Settings, get_settings
from core.timeutil import utcnow
from core.viewer import Viewer

log = logging.getLogger(__name__)

STATE_FIELDS = ("status", "schedule", "timezone", "pause_reason", "resume_at")


class CronNotFound(UnknownTenant):
    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.message = f"Tenant {user_id!r} has no cron."
        self.args = (self.message,)


class CronInfo(SQLModel):
    """A cron as the console, CLI and API show it: plain values, no session."""

    id: uuid.UUID
    user_id: str
    cron_id: str
    email: str
    status: str
    schedule: str
    description: str
    timezone: str
    next_runs: list[datetime]
    pause_reason: str | None = None
    resume_at: datetime | None = None
    consecutive_failures: int = 0
    created_at: datetime
    updated_at: datetime


def to_info(cron: UserCron, now: datetime | None = None) -> CronInfo:
    start = now or utcnow()
    if cron.status == "paused" and cron.resume_at is not None:
        start = max(start, cron.resume_at)
    return CronInfo(
        id=cron.id,
        user_id=cron.user_id,
        cron_id=cron.cron_id,
        email=cron.email,
        status=cron.status,
        schedule=cron.schedule,
        description=cron_expr.describe(cron.schedule),
        timezone=cron.timezone,
        next_runs=cron_expr.next_fire_times(cron.schedule, cron.timezone, start, 3),
        pause_reason=cron.pause_reason,
        resume_at=cron.resume_at,
        consecutive_failures=cron.consecutive_failures,
        created_at=cron.created_at,
        updated_at=cron.updated_at,
    )


def _state(cron: UserCron | None) -> dict[str, Any] | None:
    if cron is None:
        return None
    return {name: getattr(cron, name) for name in STATE_FIELDS}


def _load(session: Session, user_id: str) -> UserCron:
    cron = session.exec(select(UserCron).where(UserCron.user_id == user_id)).first()
    if cron is None:
        raise CronNotFound(user_id)
    return cron


def _change(
    session: Session,
    cron: UserCron,
    *,
    actor: str,
    action: str,
    before: dict[str, Any] | None,
) -> CronInfo:
    """Write the change and its audit event; the caller's scope commits both."""
    cron.updated_at = utcnow()
    session.add(cron)
    audit.record(
        session,
        actor=actor,
        action=action,
        user_id=cron.user_id,
        cron_id=cron.cron_id,
        before=before,
        after=_state(cron),
    )
    session.flush()
    log.info("%s for tenant %s by %s", action, cron.user_id, actor)
    return to_info(cron)


def _validated(schedule: str, timezone: str, settings: Settings) -> tuple[str, str]:
    spec = cron_expr.validate(schedule, timezone, settings.min_interval_seconds)
    return spec.expr, timezone


def create_or_update_cron(
    *,
    user_id: str,
    email: str,
    actor: str,
    schedule: str | None = None,
    timezone: str | None = None,
    settings: Settings | None = None,
) -> CronInfo:
    """Give the tenant (created when new) this cron; the same call twice is a no-op."""
    settings = settings or get_settings()
    email = tenants.normalise_email(email)
    with session_scope(settings) as session:
        found = session.exec(
            select(UserCron).where(UserCron.user_id == user_id)
        ).first()
    wanted_schedule, wanted_zone = _validated(
        schedule or (found.schedule if found else DEFAULT_SCHEDULE),
        timezone or (found.timezone if found else settings.default_timezone),
        settings,
    )
    _ensure_tenant(user_id, email, actor, settings)

    with session_scope(settings) as session:
        cron = session.exec(select(UserCron).where(UserCron.user_id == user_id)).first()
        if cron is None:
            cron = UserCron(
                user_id=user_id,
                cron_id=f"cron-{uuid.uuid4().hex[:12]}",
                email=email,
                schedule=wanted_schedule,
                timezone=wanted_zone,
            )
            info = _change(
                session, cron, actor=actor, action="cron.create", before=None
            )
        elif (cron.schedule, cron.timezone, cron.email) == (
            wanted_schedule,
            wanted_zone,
            email,
        ):
            return to_info(cron)
        else:
            before = _state(cron)
            cron.schedule, cron.timezone, cron.email = (
                wanted_schedule,
                wanted_zone,
                email,
            )
            info = _change(
                session, cron, actor=actor, action="cron.update", before=before
            )
    changes.notify()
    return info


def _ensure_tenant(user_id: str, email: str, actor: str, settings: Settings) -> None:
    with session_scope(settings) as session:
        user = session.get(User, user_id)
    if user is None:
        tenants.create_or_update_tenant(
            user_id=user_id, email=email, actor=actor, settings=settings
        )
    elif user.email != email:
        raise InvalidInput(
            f"Tenant {user_id!r} has the email {user.email}, not {email}."
        )


def reschedule_cron(
    *,
    user_id: str,
    actor: str,
    schedule: str,
    timezone: str | None = None,
    settings: Settings | None = None,
) -> CronInfo:
    settings = settings or get_settings()
    with session_scope(settings) as session:
        cron = _load(session, user_id)
        wanted = _validated(schedule, timezone or cron.timezone, settings)
        if (cron.schedule, cron.timezone) == wanted:
            return to_info(cron)
        before = _state(cron)
        cron.schedule, cron.timezone = wanted
        info = _change(
            session, cron, actor=actor, action="cron.reschedule", before=before
        )
    changes.notify()
    return info


def pause_cron(
    *,
    user_id: str,
    actor: str,
    reason: str | None = None,
    resume_at: datetime | None = None,
    settings: Settings | None = None,
) -> CronInfo:
    """Pause the cron; with `resume_at` (aware, in the future) it resumes by itself."""
    if resume_at is not None and (resume_at.tzinfo is None or resume_at <= utcnow()):
        raise InvalidInput("The resume time must be a future time with a timezone.")
    reason = " ".join((reason or "").split())[:500] or None

    with session_scope(settings) as session:
        cron = _load(session, user_id)
        wanted = ("paused", reason, resume_at)
        if (cron.status, cron.pause_reason, cron.resume_at) == wanted:
            return to_info(cron)
        before = _state(cron)
        cron.status, cron.pause_reason, cron.resume_at = wanted
        info = _change(session, cron, actor=actor, action="cron.pause", before=before)
    changes.notify()
    return info


def resume_cron(
    *, user_id: str, actor: str, settings: Settings | None = None
) -> CronInfo:
    """Resume the cron; its failure count starts again from zero."""
    with session_scope(settings) as session:
        cron = _load(session, user_id)
        if cron.status == "active":
            return to_info(cron)
        before = _state(cron)
        cron.status, cron.pause_reason, cron.resume_at = "active", None, None
        cron.consecutive_failures = 0
        info = _change(session, cron, actor=actor, action="cron.resume", before=before)
    changes.notify()
    return info


def delete_cron(*, user_id: str, actor: str, settings: Settings | None = None) -> None:
    """Remove the schedule; the tenant and their run history stay."""
    with session_scope(settings) as session:
        cron = _load(session, user_id)
        audit.record(
            session,
            actor=actor,
            action="cron.delete",
            user_id=user_id,
            cron_id=cron.cron_id,
            before=_state(cron),
            after=None,
        )
        session.delete(cron)
    changes.notify()
    log.info("cron.delete for tenant %s by %s", user_id, actor)


def get_cron(
    *, user_id: str, viewer: Viewer, settings: Settings | None = None
) -> CronInfo:
    if not viewer.may_see(user_id):
        raise CronNotFound(user_id)
    with session_scope(settings) as session:
        return to_info(_load(session, user_id))


def list_crons(
    *,
    viewer: Viewer,
    status: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 50,
    settings: Settings | None = None,
) -> list[CronInfo]:
    if status is not None and status not in CRON_STATUSES:
        raise InvalidInput(
            f"Unknown cron status {status!r}; use {' or '.join(CRON_STATUSES)}."
        )
    query = select(UserCron).order_by(UserCron.user_id).offset(offset).limit(limit)
    if not viewer.is_admin:
        query = query.where(UserCron.user_id == viewer.user_id)
    if status:
        query = query.where(UserCron.status == status)
    if search:
        pattern = f"%{search.casefold()}%"
        query = query.where(
            col(UserCron.user_id).ilike(pattern) | col(UserCron.email).ilike(pattern)
        )
    now = utcnow()
    with session_scope(settings) as session:
        return [to_info(cron, now) for cron in session.exec(query)]


# --- for the scheduler and the job runner ------------------------------------------


def version(settings: Settings | None = None) -> tuple[int, datetime | None]:
    """Changes whenever a cron is created, changed or deleted; one cheap query."""
    with session_scope(settings) as session:
        count, latest = session.exec(
            select(func.count(), func.max(UserCron.updated_at))
        ).one()
    return int(count), latest


def active_crons(settings: Settings | None = None) -> list[UserCron]:
    """Detached rows of every active cron, for the scheduler to reconcile with."""
    with session_scope(settings) as session:
        return list(session.exec(select(UserCron).where(UserCron.status == "active")))


def resume_due(now: datetime, settings: Settings | None = None) -> list[str]:
    """Resume every paused cron whose resume time has come; returns their user ids."""
    with session_scope(settings) as session:
        due = list(
            session.exec(
                select(UserCron.user_id).where(
                    UserCron.status == "paused",
                    col(UserCron.resume_at).is_not(None),
                    col(UserCron.resume_at) <= now,
                )
            )
        )
    for user_id in due:
        resume_cron(user_id=user_id, actor="scheduler", settings=settings)
    return due


def note_result(session: Session, *, user_cron_id: uuid.UUID, failed: bool) -> int:
    """Count consecutive failures (not an audited change); returns the new count."""
    new_count = (UserCron.consecutive_failures + 1) if failed else sa.literal(0)
    session.execute(
        sa.update(UserCron)
        .where(col(UserCron.id) == user_cron_id)
        .values(consecutive_failures=new_count)
    )
    cron = session.get(UserCron, user_cron_id)
    if cron is None:
        return 0
    session.refresh(cron)
    return cron.consecutive_failures
