"""Connect Gmail in the console: the buttons, the trip to Google, and the return.

Everything that decides lives in core.oauth; this module only draws and forwards.
Google sends the browser back to OAUTH_REDIRECT_URI (the app's root) with `state`
and `code` (or `error`) in the query; `handle_oauth_return` finishes the connect
there and moves on to the Connect Gmail page with the outcome.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import streamlit as st

from core import oauth, tenants
from core.errors import MailcronError
from core.models import TenantInfo
from core.settings import Settings
from core.viewer import Viewer
from dashboard.auth import decide_access

log = logging.getLogger(__name__)

CONNECT_PAGE = Path(__file__).resolve().parent.parent / "pages" / "connect.py"
FLASH_KEY = "connect-outcome"


def handle_oauth_return(settings: Settings) -> None:
    """Finish a connect when Google has just sent the browser back; else nothing."""
    params = st.query_params
    if "state" not in params or not ({"code", "error"} & set(params.keys())):
        return
    viewer = decide_access(settings).viewer
    if viewer is None:
        # The page's own sign-in gate shows; the unused state simply expires.
        return

    try:
        connected = oauth.finish_connect(
            settings=settings,
            state=params["state"],
            code=params.get("code"),
            error=params.get("error"),
            actor=viewer.actor,
            viewer=viewer,
        )
    except MailcronError as err:
        outcome = ("error", str(err))
    else:
        cron = connected.cron
        outcome = (
            "success",
            f"Gmail of {connected.tenant.email} is connected; its cron runs "
            f"{cron.description.lower()} ({cron.status}).",
        )
    # The code is single use: leave no trace of it in the address bar.
    st.query_params.clear()
    st.session_state[FLASH_KEY] = outcome
    st.switch_page(CONNECT_PAGE)


def show_outcome() -> None:
    """The result of the connect that just returned, shown once."""
    outcome = st.session_state.pop(FLASH_KEY, None)
    if outcome is None:
        return
    kind, text = outcome
    if kind == "success":
        st.success(text, icon="✅")
    else:
        st.error(text)


def connect_new(settings: Settings, viewer: Viewer) -> None:
    """The Connect Gmail button for a new mailbox (admins only)."""
    if not viewer.is_admin:
        return
    if settings.google_client_secrets_file is None:
        st.warning(
            "Gmail cannot be connected until GOOGLE_CLIENT_SECRETS_FILE names an "
            "OAuth client file; see the Health page."
        )
        return
    if st.button("Connect Gmail", key="connect-gmail", type="primary", icon="✉️"):
        _go_to_google(settings, None)


def tenant_rows(settings: Settings, viewer: Viewer) -> None:
    """Every tenant this viewer may see, with Reconnect and Disconnect for Gmail."""
    rows = tenants.list_tenants(viewer=viewer, limit=500, settings=settings)
    if not rows:
        st.caption("No tenants yet.")
    for tenant in rows:
        with st.container(border=True, key=f"tenant-{_key(tenant.user_id)}"):
            st.markdown(_describe(tenant))
            if tenant.mail_source == "gmail":
                _row_actions(settings, viewer, tenant)


def _describe(tenant: TenantInfo) -> str:
    status = {"needs_reauth": "needs reconnecting"}.get(tenant.status, tenant.status)
    return f"**{tenant.email}** · `{tenant.user_id}` · {tenant.mail_source} · {status}"


def _row_actions(settings: Settings, viewer: Viewer, tenant: TenantInfo) -> None:
    left, right = st.columns(2)
    label = "Reconnect" if tenant.status == "needs_reauth" else "Connect again"
    if left.button(label, key=f"reconnect-{_key(tenant.user_id)}"):
        _go_to_google(settings, tenant.user_id)
    if right.button("Disconnect", key=f"disconnect-{_key(tenant.user_id)}"):
        try:
            result = oauth.disconnect(
                user_id=tenant.user_id, actor=viewer.actor, settings=settings
            )
        except MailcronError as err:
            st.error(str(err))
            return
        (st.success if result.revoked else st.warning)(result.message)


def _go_to_google(settings: Settings, user_id: str | None) -> None:
    try:
        url = oauth.start_connect(settings=settings, user_id=user_id)
    except MailcronError as err:
        st.error(str(err))
        return
    # Streamlit has no server-side redirect: a script sends this tab to Google, and
    # the link is there for a browser that blocks it.
    target = json.dumps(url).replace("<", "\\u003c")
    st.html(
        f"<script>window.location.assign({target});</script>",
        unsafe_allow_javascript=True,
    )
    st.link_button("Continue to Google", url, key="continue-to-google")


def _key(user_id: str) -> str:
    # Widget keys of one page must be unique and stable; user ids are both.
    return user_id.replace("@", "-at-")
