"""Give a tenant a cron in one call, as scripts and webhooks do; set their prefs.

Everything is checked before anything is written, so a refused call changes
nothing, and the same call twice changes nothing the second time: the tenant and
cron services are no-ops when the values are already there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from core import cron_expr, crons, tenants, views
from core.agent.prefs import validate_prefs
from core.errors import Conflict, InvalidInput, UnknownTenant
from core.models import DEFAULT_SCHEDULE, TenantInfo
from core.settings import Settings
from core.viewer import Viewer

log = logging.getLogger(__name__)


def _existing_tenant(user_id: str, settings: Settings) -> TenantInfo | None:
    try:
        return tenants.get_tenant(user_id=user_id, settings=settings)
    except UnknownTenant:
        return None


def _existing_cron(user_id: str, settings: Settings) -> crons.CronInfo | None:
    try:
        return crons.get_cron(user_id=user_id, viewer=Viewer.admin(), settings=settings)
    except crons.CronNotFound:
        return None


def _mailbox_folder(mailbox: str) -> str:
    folder = Path(mailbox).expanduser()
    if not folder.is_dir():
        raise InvalidInput(f"Mailbox folder {mailbox} does not exist.")
    return str(folder.resolve())


def _check_schedule(
    user_id: str,
    schedule: str | None,
    timezone: str | None,
    settings: Settings,
) -> tuple[str, str]:
    """The schedule and timezone the cron will have, validated."""
    current = _existing_cron(user_id, settings)
    wanted = (
        schedule or (current.schedule if current else DEFAULT_SCHEDULE),
        timezone or (current.timezone if current else settings.default_timezone),
    )
    cron_expr.validate(*wanted, settings.min_interval_seconds)
    return wanted


def refuse_folder_tenant(*, user_id: str, settings: Settings) -> None:
    """Conflict when `user_id` is a tenant that reads a local mail folder."""
    current = _existing_tenant(user_id, settings)
    if current is not None and current.mail_source == "folder":
        raise Conflict(
            f"{user_id} reads a mail folder, not Gmail; nothing changed. Use "
            "create-user-cron with --mailbox to change a folder tenant."
        )


def provision_cron(
    *,
    user_id: str,
    email: str,
    actor: str,
    settings: Settings,
    schedule: str | None = None,
    timezone: str | None = None,
    mailbox: str | None = None,
    new_source: str = "gmail",
) -> views.CronView:
    """Create or update the tenant and their cron; returns the cron.

    `mailbox` makes the tenant read that local folder. A tenant created without one
    reads `new_source` (Gmail: they connect it in the console); an existing tenant
    keeps their source. Schedule and timezone left out keep their current values.
    """
    tenants.check_user_id(user_id)
    tenants.normalise_email(email)
    wanted_schedule, wanted_zone = _check_schedule(
        user_id, schedule, timezone, settings
    )
    folder = _mailbox_folder(mailbox) if mailbox is not None else None

    source: dict[str, Any] = {}
    if folder is not None:
        source = {"mail_source": "folder", "mailbox_path": folder}
    if _existing_tenant(user_id, settings) is None:
        tenants.create_or_update_tenant(
            user_id=user_id,
            email=email,
            actor=actor,
            settings=settings,
            **({"mail_source": new_source} | source),
        )
    else:
        tenants.update_tenant(
            user_id=user_id, email=email, actor=actor, settings=settings, **source
        )
    crons.create_or_update_cron(
        user_id=user_id,
        email=email,
        actor=actor,
        schedule=wanted_schedule,
        timezone=wanted_zone,
        settings=settings,
    )
    return views.cron_of(user_id=user_id, settings=settings)


def set_prefs(
    *, user_id: str, prefs: Any, actor: str, settings: Settings
) -> TenantInfo:
    """Replace the tenant's assistant preferences after validating them."""
    current = tenants.get_tenant(
        user_id=views.known_user_id(user_id), settings=settings
    )
    checked = validate_prefs(prefs).model_dump()

    info = tenants.update_tenant(
        user_id=current.user_id, actor=actor, prefs=checked, settings=settings
    )
    log.info("preferences of tenant %s set by %s", user_id, actor)
    return info
