"""One tenant's tick: claim it in `job_runs`, do the work, record how it went.

The claim is the insert of the run row, before any work: the unique
(user_cron_id, scheduled_for) key makes two schedulers racing for a tick produce one
row, and the partial unique index `uq_job_runs_one_running` lets a tenant have one
`running` run at a time, whoever started it.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import audit, crons, tenants
from core.db import session_scope
from core.errors import (
    Conflict,
    MailcronError,
    QuotaExceeded,
    ReauthRequired,
    UnknownTenant,
)
from core.models import JobRun, TenantInfo, User, UserCron
from core.runs import RunInfo, one_line, record_skipped, redacted_traceback, to_info

# Readers (console, CLI, API) list runs through the job runner, its public face.
from core.runs import list_runs as list_runs
from core.settings import Settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)

# Names this process in run rows and the scheduler lease.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
DEFAULT_WORK = "core.pipeline.run_tenant"


@dataclass(frozen=True)
class TickOutcome:
    """What the work of one tick reports back."""

    emails_fetched: int = 0
    threads_created: int = 0
    timed_out: bool = False


Work = Callable[..., TickOutcome]


def resolve_work(work: Work | None) -> Work:
    # Resolved late so the scheduler can start before the pipeline module exists.
    if work is not None:
        return work
    module_name, _, name = DEFAULT_WORK.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


@dataclass(frozen=True)
class _Target:
    tenant: TenantInfo
    user_cron_id: uuid.UUID | None
    runnable: bool


def _target(user_cron_id: uuid.UUID, settings: Settings) -> _Target | None:
    with session_scope(settings) as session:
        cron = session.get(UserCron, user_cron_id)
        user = session.get(User, cron.user_id) if cron else None
        if cron is None or user is None:
            return None
        runnable = cron.status == "active" and user.status == "active"
        return _Target(tenants.to_info(user), cron.id, runnable)


def execute_tick(
    *,
    user_cron_id: uuid.UUID,
    scheduled_for: datetime,
    trigger: str,
    settings: Settings,
    work: Work | None = None,
    holder: str = PROCESS_ID,
) -> RunInfo | None:
    """Run one tick of a cron. None when there is nothing to record: the cron is
    gone or paused, or another scheduler already claimed this tick.

    `holder` names the scheduler in the run row, so that a successor can mark the
    runs of a dead one `abandoned`."""
    target = _target(user_cron_id, settings)
    if target is None or not target.runnable:
        log.debug(
            "tick of cron %s at %s not run: cron gone or paused",
            user_cron_id,
            scheduled_for,
        )
        return None

    claim = _claim(target, scheduled_for, trigger, settings, holder)
    if claim is None or claim.status == "skipped":
        return claim
    return _run(claim, target.tenant, resolve_work(work), settings)


def run_now(
    *, user_id: str, actor: str, settings: Settings, work: Work | None = None
) -> RunInfo:
    """Run the tenant's tick now, in the caller's thread, from any process.

    Refused with Conflict while another run of this tenant is going."""
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        if user is None:
            raise UnknownTenant(user_id)
        cron = session.exec(select(UserCron).where(UserCron.user_id == user_id)).first()
        target = _Target(tenants.to_info(user), cron.id if cron else None, True)
        cron_id = cron.cron_id if cron else None

    claim = _claim(target, utcnow(), "manual", settings, PROCESS_ID)
    if claim is None or claim.status != "running":
        raise Conflict(f"A run of {user_id} is already going; try again when it ends.")
    log.info("run now of tenant %s requested by %s (run %s)", user_id, actor, claim.id)
    audit.record_done(
        settings=settings,
        actor=actor,
        action="cron.run_now",
        user_id=user_id,
        cron_id=cron_id,
        after={"run_id": claim.id},
    )
    return _run(claim, target.tenant, resolve_work(work), settings)


def _claim(
    target: _Target,
    scheduled_for: datetime,
    trigger: str,
    settings: Settings,
    holder: str,
) -> RunInfo | None:
    row = JobRun(
        user_id=target.tenant.user_id,
        user_cron_id=target.user_cron_id,
        trigger=trigger,
        scheduled_for=scheduled_for,
        started_at=utcnow(),
        status="running",
        holder=holder,
    )
    try:
        with session_scope(settings) as session:
            session.add(row)
            session.flush()
            return to_info(row)
    except IntegrityError:
        return _claim_refused(target, scheduled_for, trigger, settings, holder)


def _claim_refused(
    target: _Target,
    scheduled_for: datetime,
    trigger: str,
    settings: Settings,
    holder: str,
) -> RunInfo | None:
    with session_scope(settings) as session:
        taken = session.exec(
            select(JobRun.id).where(
                JobRun.user_cron_id == target.user_cron_id,
                JobRun.scheduled_for == scheduled_for,
            )
        ).first()
        running = session.exec(
            select(JobRun).where(
                JobRun.user_id == target.tenant.user_id, JobRun.status == "running"
            )
        ).first()
    if taken is not None or trigger == "manual":
        log.debug("tick %s of %s already claimed", scheduled_for, target.tenant.user_id)
        return None

    since = running.started_at.isoformat(timespec="seconds") if running else "?"
    reason = f"The previous run ({running.id if running else '?'}) started {since} "
    reason += "was still going."
    return record_skipped(
        user_id=target.tenant.user_id,
        user_cron_id=target.user_cron_id,
        scheduled_for=scheduled_for,
        kind="overlap",
        reason=reason,
        settings=settings,
        holder=holder,
    )


def _run(claim: RunInfo, tenant: TenantInfo, work: Work, settings: Settings) -> RunInfo:
    limit = settings.run_time_limit_seconds
    started = time.monotonic()
    outcome, error = TickOutcome(), None
    try:
        outcome = work(tenant=tenant, deadline=started + limit, settings=settings)
    except Exception as err:  # a failing tenant must never stop the scheduler
        error = err
        if not isinstance(err, MailcronError):
            # Not log.exception: the raw traceback could carry a token verbatim.
            log.error(
                "run %s of tenant %s failed unexpectedly; the scheduler goes on\n%s",
                claim.id,
                tenant.user_id,
                redacted_traceback(err),
            )
    duration = time.monotonic() - started

    if isinstance(error, QuotaExceeded):
        # Over quota is Gmail saying "later", not a failure of the tenant's setup:
        # the tick is skipped with the reason and the failure streak is left alone.
        status = "skipped"
    elif error is not None:
        status = "error"
    elif outcome.timed_out or duration > limit:
        status = "timeout"
    else:
        status = "ok"
    info = _finish(claim, status, outcome, error, duration, settings)
    _after_run(info, error, settings)
    log.info(
        "run %s of tenant %s: %s in %.2f s, %d emails, %d threads%s",
        info.id,
        info.user_id,
        info.status,
        duration,
        info.emails_fetched,
        info.threads_created,
        f" ({info.error_kind}: {info.error_message})" if error else "",
    )
    return info


def _finish(
    claim: RunInfo,
    status: str,
    outcome: TickOutcome,
    error: Exception | None,
    duration: float,
    settings: Settings,
) -> RunInfo:
    kind = None
    if error is not None:
        kind = getattr(error, "kind", None) or type(error).__name__
    with session_scope(settings) as session:
        row = session.get(JobRun, claim.id)
        if row is None:  # the tenant was deleted while the run went on
            return claim
        row.status = status
        row.finished_at = utcnow()
        row.duration_s = round(duration, 3)
        row.emails_fetched = outcome.emails_fetched
        row.threads_created = outcome.threads_created
        row.error_kind = kind
        row.error_message = one_line(str(error)) if error is not None else None
        session.add(row)
        if claim.user_cron_id is not None and status != "skipped":
            crons.note_result(
                session, user_cron_id=claim.user_cron_id, failed=status == "error"
            )
        session.flush()
        return to_info(row)


def _after_run(info: RunInfo, error: Exception | None, settings: Settings) -> None:
    """Stop ticking a tenant that cannot succeed until a person acts."""
    if isinstance(error, ReauthRequired):
        tenants.set_tenant_status(
            user_id=info.user_id,
            status="needs_reauth",
            actor="scheduler",
            settings=settings,
        )
        _pause(info, f"Needs reauthorisation: {info.error_message}", settings)
        return
    if error is None or info.user_cron_id is None or info.status == "skipped":
        return
    with session_scope(settings) as session:
        cron = session.get(UserCron, info.user_cron_id)
        failures = cron.consecutive_failures if cron else 0
    if failures >= settings.max_consecutive_failures:
        _pause(
            info,
            f"{failures} failed runs in a row; last: {info.error_message}",
            settings,
        )


def _pause(info: RunInfo, reason: str, settings: Settings) -> None:
    try:
        crons.pause_cron(
            user_id=info.user_id, actor="scheduler", reason=reason, settings=settings
        )
    except crons.CronNotFound:
        return
    log.error("cron of tenant %s paused: %s", info.user_id, reason)
