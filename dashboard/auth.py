"""Console sign-in: who is looking, from Streamlit's own st.login / st.user.

With an `[auth]` section in `.streamlit/secrets.toml`, Streamlit runs the OpenID
Connect sign-in and `st.user` always carries `is_logged_in`; without one it never
does, which is how "no identity provider" is told apart here. Admins are
ADMIN_EMAILS, a tenant sees only their own rows, anyone else only a sign-in page.
Without an identity provider the console is a local admin, but only while the
server listens on loopback alone.

This sign-in gives no Gmail access; that stays with Connect Gmail (core.oauth).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from core.settings import Settings, get_settings
from core.signin import is_loopback, viewer_for_email
from core.viewer import Viewer

Mode = Literal["signed_in", "local", "sign_in", "stranger", "refused"]


@dataclass(frozen=True)
class Access:
    viewer: Viewer | None
    mode: Mode
    detail: str = ""


def decide_access(settings: Settings | None = None) -> Access:
    """Who is looking, without drawing anything (safe to call more than once)."""
    settings = settings or get_settings()
    user: dict[str, Any] = st.user.to_dict()
    if "is_logged_in" not in user:
        address = st.get_option("server.address")
        if is_loopback(address):
            return Access(Viewer.admin(), "local")
        return Access(None, "refused", str(address or "every interface"))

    if not user.get("is_logged_in"):
        return Access(None, "sign_in")
    email = str(user.get("email") or "")
    viewer = viewer_for_email(
        email=email, verified=user.get("email_verified"), settings=settings
    )
    if viewer is None:
        return Access(None, "stranger", email)
    return Access(viewer, "signed_in", email)


def resolve_viewer() -> Viewer | None:
    """The viewer of this run, drawing the banner or sign-in page that goes with it.

    Draws, so the entry script calls it once per run; pages use `current_viewer()`.
    None means nothing else may be shown.
    """
    access = decide_access()
    _DRAW[access.mode](access)
    return access.viewer


def current_viewer() -> Viewer:
    """The viewer a page shows data for; the entry script has already let them in."""
    viewer = decide_access().viewer
    if viewer is None:
        st.stop()
    return viewer


def _local_banner(access: Access) -> None:
    # In the sidebar, beside where "Signed in as" would be, so pages keep their top.
    st.sidebar.caption(
        ":material/lock_open: Local admin mode: no sign-in is configured, so whoever "
        "can open this page on this machine is an admin. Add an [auth] section to "
        ".streamlit/secrets.toml to require sign-in."
    )


def _refused(access: Access) -> None:
    st.error(
        f"mailcron shows no data: no sign-in is configured and the console listens "
        f"on {access.detail}, not only on 127.0.0.1. Bind it to 127.0.0.1 or add an "
        "[auth] section to .streamlit/secrets.toml.",
        icon="🔒",
    )


def _sign_in_page(access: Access) -> None:
    st.subheader("Sign in")
    st.write("The mailcron console shows your mailbox's schedule once you sign in.")
    if st.button("Sign in", key="auth-sign-in", type="primary"):
        st.login()


def _stranger_page(access: Access) -> None:
    st.warning(
        f"You are signed in as {access.detail or 'an account without an email'}, "
        "which is neither an admin nor a tenant of mailcron; ask an admin to add you.",
        icon="🚫",
    )
    if st.button("Sign out", key="auth-sign-out"):
        st.logout()


def _signed_in(access: Access) -> None:
    with st.sidebar:
        st.caption(f"Signed in as {access.detail}")
        if st.button("Sign out", key="auth-sign-out"):
            st.logout()


_DRAW = {
    "local": _local_banner,
    "refused": _refused,
    "sign_in": _sign_in_page,
    "stranger": _stranger_page,
    "signed_in": _signed_in,
}
