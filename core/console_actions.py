"""What a viewer may do to tenants and crons, checked once, then handed to the services.

The cron, tenant and job services take an actor and trust their caller; the console
acts for a viewer, so each function here first makes sure that viewer may touch the
tenant (a tenant viewer: only their own; adding tenants: admins only) and then calls
the same service the CLI and the API call, which audits the change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from core import cron_expr, crons, jobs, tenants
from core.agent.decision import Decision
from core.agent.dryrun import dry_run, read_message
from core.agent.prefs import validate_prefs
from core.crons import CronInfo
from core.db import session_scope
from core.errors import InvalidInput, MailcronError, UnknownTenant
from core.jobs import RunInfo, Work
from core.models import DEFAULT_SCHEDULE, JobRun, TenantInfo, Thread
from core.settings import Settings
from core.viewer import Viewer

log = logging.getLogger(__name__)


class NotAllowed(InvalidInput):
    kind = "not_allowed"

    def __init__(self, what: str) -> None:
        super().__init__(f"Only an admin may {what}; nothing was changed.")


class PipelineMissing(MailcronError):
    kind = "pipeline_missing"

    def __init__(self) -> None:
        super().__init__(
            "The mail pipeline is not installed in this build, so nothing was run."
        )


@dataclass
class BulkResult:
    """Which tenants a bulk action changed, and why the others were refused."""

    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _visible(viewer: Viewer, user_id: str) -> None:
    if not viewer.may_see(user_id):
        raise UnknownTenant(user_id)


def pause(
    *,
    viewer: Viewer,
    user_id: str,
    reason: str | None = None,
    resume_at: datetime | None = None,
    settings: Settings,
) -> CronInfo:
    _visible(viewer, user_id)
    return crons.pause_cron(
        user_id=user_id,
        actor=viewer.actor,
        reason=reason,
        resume_at=resume_at,
        settings=settings,
    )


def resume(*, viewer: Viewer, user_id: str, settings: Settings) -> CronInfo:
    _visible(viewer, user_id)
    return crons.resume_cron(user_id=user_id, actor=viewer.actor, settings=settings)


def reschedule(
    *,
    viewer: Viewer,
    user_id: str,
    schedule: str,
    timezone: str,
    settings: Settings,
) -> CronInfo:
    _visible(viewer, user_id)
    if not schedule.strip():
        raise InvalidInput("The schedule is empty; write one like */15 * * * *.")
    return crons.reschedule_cron(
        user_id=user_id,
        actor=viewer.actor,
        schedule=schedule,
        timezone=timezone.strip() or None,
        settings=settings,
    )


def bulk(
    *, viewer: Viewer, user_ids: list[str], pause_them: bool, settings: Settings
) -> BulkResult:
    """Pause (or resume) each tenant; one refusal does not stop the others."""
    result = BulkResult()
    for user_id in user_ids:
        try:
            if pause_them:
                pause(viewer=viewer, user_id=user_id, settings=settings)
            else:
                resume(viewer=viewer, user_id=user_id, settings=settings)
        except MailcronError as err:
            result.refused[user_id] = str(err)
            continue
        result.done.append(user_id)
    return result


def run_now(
    *, viewer: Viewer, user_id: str, settings: Settings, work: Work | None = None
) -> RunInfo:
    """Run the tenant's tick now; its run row records how it went."""
    _visible(viewer, user_id)
    # Resolved before the claim: the job runner resolves it after inserting the
    # run row, so a missing pipeline would leave that row `running` for good.
    try:
        chosen = jobs.resolve_work(work)
    except (ImportError, AttributeError):
        raise PipelineMissing() from None
    return jobs.run_now(
        user_id=user_id, actor=viewer.actor, settings=settings, work=chosen
    )


def removal_summary(
    *, viewer: Viewer, user_id: str, whole_tenant: bool, settings: Settings
) -> str:
    """One sentence naming what a delete would remove, for the confirmation."""
    _visible(viewer, user_id)
    cron = crons.get_cron(user_id=user_id, viewer=viewer, settings=settings)
    if not whole_tenant:
        return (
            f"This removes the cron of {user_id} ({cron.schedule}, {cron.timezone}); "
            "the tenant, their threads and run history stay."
        )
    with session_scope(settings) as session:
        run_count = session.exec(
            select(func.count()).where(JobRun.user_id == user_id)
        ).one()
        thread_count = session.exec(
            select(func.count()).where(Thread.owner == user_id)
        ).one()
    return (
        f"This removes tenant {user_id} ({cron.email}) with their cron, "
        f"{thread_count} thread(s), {run_count} run(s), stored credentials and "
        "audit history, for good."
    )


def delete_cron(*, viewer: Viewer, user_id: str, settings: Settings) -> None:
    _visible(viewer, user_id)
    crons.delete_cron(user_id=user_id, actor=viewer.actor, settings=settings)


def delete_tenant(
    *, viewer: Viewer, user_id: str, settings: Settings
) -> dict[str, int]:
    _visible(viewer, user_id)
    return tenants.delete_tenant(user_id=user_id, actor=viewer.actor, settings=settings)


def add_folder_tenant(
    *,
    viewer: Viewer,
    user_id: str,
    email: str,
    mailbox_path: str,
    display_name: str = "",
    schedule: str | None = None,
    timezone: str | None = None,
    settings: Settings,
) -> CronInfo:
    """A new tenant reading a local folder, with its cron (validated first)."""
    if not viewer.is_admin:
        raise NotAllowed("add tenants")
    folder = Path(mailbox_path.strip()).expanduser()
    if not mailbox_path.strip() or not folder.is_dir():
        raise InvalidInput(f"{mailbox_path!r} is not a folder on this machine.")
    user_id, email = user_id.strip(), tenants.normalise_email(email)
    schedule = (schedule or "").strip() or DEFAULT_SCHEDULE
    timezone = (timezone or "").strip() or settings.default_timezone
    # Checked before anything is written, so a refusal leaves no cron-less tenant.
    cron_expr.validate(schedule, timezone, settings.min_interval_seconds)
    try:
        tenants.get_tenant(user_id=user_id, settings=settings)
    except UnknownTenant:
        pass
    else:
        raise InvalidInput(f"A tenant {user_id!r} already exists; pick another id.")

    tenants.create_or_update_tenant(
        user_id=user_id,
        email=email,
        actor=viewer.actor,
        display_name=display_name.strip(),
        mail_source="folder",
        mailbox_path=str(folder.resolve()),
        settings=settings,
    )
    return crons.create_or_update_cron(
        user_id=user_id,
        email=email,
        actor=viewer.actor,
        schedule=schedule,
        timezone=timezone,
        settings=settings,
    )


def save_prefs(
    *, viewer: Viewer, user_id: str, prefs: dict[str, Any], settings: Settings
) -> TenantInfo:
    """Store validated preferences; InvalidInput (nothing saved) when refused."""
    tenant = tenants.get_tenant(user_id=user_id, viewer=viewer, settings=settings)
    clean = validate_prefs(prefs).model_dump()
    return tenants.update_tenant(
        user_id=tenant.user_id, actor=viewer.actor, prefs=clean, settings=settings
    )


def try_prefs(
    *,
    viewer: Viewer,
    user_id: str,
    prefs: dict[str, Any],
    raw_message: bytes,
    settings: Settings,
) -> Decision:
    """Triage one raw message under unsaved preferences; stores nothing."""
    tenant = tenants.get_tenant(user_id=user_id, viewer=viewer, settings=settings)
    candidate = tenant.model_copy(update={"prefs": validate_prefs(prefs).model_dump()})
    if not raw_message.strip():
        raise InvalidInput("Paste a message or upload an .eml file to try the rules.")
    email = read_message(
        raw_message, source_id="console-dry-run", tenant_email=tenant.email
    )
    return dry_run(tenant=candidate, email=email, settings=settings)
