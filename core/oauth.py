"""Connect Gmail: Google's OAuth web flow, from the button to a ticking cron.

The Google side (Flow, exchange, scope and refresh-token checks) is core.oauth_grant;
this module ties it to the state in the database and to the tenant and its cron.

The return from Google is a new page load with a new `Flow`: the state and the PKCE
verifier come back from the database (core.oauth_state), never from memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from google.oauth2.credentials import Credentials

from core import audit, crons, oauth_state, signin, tenants
from core import oauth_grant as grant
from core.crons import CronInfo
from core.errors import InvalidInput, MailcronError, UnknownTenant
from core.mail import credentials as stored
from core.models import TenantInfo
from core.settings import Settings
from core.viewer import Viewer

log = logging.getLogger(__name__)

SCOPES = grant.SCOPES

DISCONNECT_REASON = "Gmail disconnected"


@dataclass(frozen=True)
class Connected:
    tenant: TenantInfo
    cron: CronInfo
    created: bool


@dataclass(frozen=True)
class Disconnected:
    user_id: str
    revoked: bool

    @property
    def message(self) -> str:
        if self.revoked:
            return (
                f"Gmail of {self.user_id} is disconnected and Google's grant revoked."
            )
        return (
            f"Gmail of {self.user_id} is disconnected here, but Google did not confirm "
            "the revocation; remove mailcron at myaccount.google.com/permissions."
        )


def start_connect(*, settings: Settings, user_id: str | None = None) -> str:
    """The Google URL to send the browser to; the state waits in the database.

    With `user_id` the flow reconnects that tenant; without, it connects a new one.
    """
    if user_id is not None:
        tenants.get_tenant(user_id=user_id, settings=settings)
    state = oauth_state.new_state()
    flow = grant.make_flow(settings, state=state)
    url, _ = flow.authorization_url(
        state=state,
        access_type="offline",
        prompt="consent",
        include_granted_scopes="true",
    )
    oauth_state.save_state(
        state=state,
        code_verifier=str(flow.code_verifier),
        user_id=user_id,
        settings=settings,
    )
    log.info("Gmail connect started (tenant %s)", user_id or "new")
    return str(url)


def finish_connect(
    *,
    settings: Settings,
    state: str,
    actor: str,
    code: str | None = None,
    error: str | None = None,
    viewer: Viewer | None = None,
) -> Connected:
    """Google sent the browser back: check, exchange, and set the tenant up.

    Any refusal raises a MailcronError with one sentence saying what to do, and
    leaves no token stored.
    """
    allowed = None if viewer is None or viewer.is_admin else viewer.user_id
    pending = oauth_state.claim_state(
        state=state, settings=settings, allowed_user=allowed
    )
    grant.check_answer(code, error)
    flow = grant.make_flow(settings, state=state, code_verifier=pending.code_verifier)
    credentials = grant.exchange(flow, str(code), settings)

    address = grant.profile_address(credentials, settings)
    _check_target(pending.user_id, address, credentials, settings)
    return _set_up(pending.user_id, address, credentials, actor, settings)


def disconnect(*, user_id: str, actor: str, settings: Settings) -> Disconnected:
    """Revoke at Google, forget the token, pause the cron, and audit it."""
    tenants.get_tenant(user_id=user_id, settings=settings)
    try:
        revoked = stored.revoke(user_id=user_id, settings=settings)
    except MailcronError as err:  # an unreadable token cannot be revoked from here
        log.warning("cannot revoke the grant of %s: %s", user_id, err)
        revoked = False
    stored.delete_credentials(user_id=user_id, settings=settings)

    tenants.set_tenant_status(
        user_id=user_id, status="needs_reauth", actor=actor, settings=settings
    )
    try:
        crons.pause_cron(
            user_id=user_id, actor=actor, reason=DISCONNECT_REASON, settings=settings
        )
    except crons.CronNotFound:
        pass
    audit.record_done(
        settings=settings,
        actor=actor,
        action="gmail.disconnect",
        user_id=user_id,
        after={"revoked": revoked},
    )
    log.info("Gmail of %s disconnected by %s (revoked: %s)", user_id, actor, revoked)
    return Disconnected(user_id=user_id, revoked=revoked)


# --- the tenant --------------------------------------------------------------------


def _check_target(
    user_id: str | None, address: str, credentials: Credentials, settings: Settings
) -> None:
    if user_id is None:
        return
    try:
        tenant = tenants.get_tenant(user_id=user_id, settings=settings)
    except UnknownTenant:
        grant.discard(credentials, settings)
        raise
    if tenant.email != address:
        grant.discard(credentials, settings)
        raise InvalidInput(
            f"You chose the Google account {address}, but this row is {tenant.email}; "
            f"click Reconnect again and choose {tenant.email}."
        )


def _set_up(
    user_id: str | None,
    address: str,
    credentials: Credentials,
    actor: str,
    settings: Settings,
) -> Connected:
    existing = _existing(user_id, address, settings)
    tenant = _save_tenant(existing, address, actor, settings)
    stored.store_credentials(
        user_id=tenant.user_id, credentials=credentials, settings=settings
    )
    if tenant.status == "needs_reauth":
        tenant = tenants.set_tenant_status(
            user_id=tenant.user_id, status="active", actor=actor, settings=settings
        )

    cron = crons.create_or_update_cron(
        user_id=tenant.user_id, email=address, actor=actor, settings=settings
    )
    if cron.status == "paused" and _paused_for_grant(existing, cron):
        cron = crons.resume_cron(user_id=tenant.user_id, actor=actor, settings=settings)
    audit.record_done(
        settings=settings,
        actor=actor,
        action="gmail.connect",
        user_id=tenant.user_id,
        after={"email": address},
    )
    log.info("Gmail of %s connected by %s", tenant.user_id, actor)
    return Connected(tenant=tenant, cron=cron, created=existing is None)


def _existing(
    user_id: str | None, address: str, settings: Settings
) -> TenantInfo | None:
    if user_id is not None:
        return tenants.get_tenant(user_id=user_id, settings=settings)
    return signin.find_by_email(email=address, settings=settings)


def _save_tenant(
    existing: TenantInfo | None, address: str, actor: str, settings: Settings
) -> TenantInfo:
    if existing is None:
        return tenants.create_or_update_tenant(
            user_id=address,
            email=address,
            actor=actor,
            mail_source="gmail",
            settings=settings,
        )
    # Only the mailbox changes; the tenant's name, preferences and limits stay.
    return tenants.update_tenant(
        user_id=existing.user_id,
        email=address,
        actor=actor,
        mail_source="gmail",
        mailbox_path=None,
        settings=settings,
    )


def _paused_for_grant(existing: TenantInfo | None, cron: CronInfo) -> bool:
    """Resume only a pause the lost grant caused, never one a person chose."""
    if existing is not None and existing.status == "needs_reauth":
        return True
    return cron.pause_reason == DISCONNECT_REASON
