"""The demo notice: which tenants are the demo's, and a confirmed way to remove them."""

from __future__ import annotations

import streamlit as st

from core import demo
from core.errors import MailcronError
from core.settings import Settings
from core.viewer import Viewer

REMOVED_KEY = "_demo-removed"
ASKING_KEY = "_demo-remove-asked"


def demo_notice(viewer: Viewer, settings: Settings) -> None:
    """For admins, while demo tenants exist: say so, and offer to remove them."""
    if not viewer.is_admin:
        return
    if REMOVED_KEY in st.session_state:
        st.success(st.session_state.pop(REMOVED_KEY), icon=":material/check:")
    loaded = demo.demo_tenants(settings=settings)
    if not loaded:
        st.session_state.pop(ASKING_KEY, None)
        return

    names = ", ".join(tenant.user_id for tenant in loaded)
    text, button = st.columns([4, 1], vertical_alignment="center")
    text.info(
        f"Demo loaded: {len(loaded)} demo tenants ({names}) read invented mailboxes "
        "on an every-minute cron, with new mail arriving each tick. Runs, threads "
        "and charts fill in over the first minutes. To add your own tenant, use "
        "Connect Gmail, or Add a folder tenant on Tenants & crons.",
        icon=":material/science:",
    )
    button.button(
        "Remove demo tenants",
        key="remove-demo",
        type="secondary",
        on_click=_ask,
        disabled=ASKING_KEY in st.session_state,
    )
    if ASKING_KEY in st.session_state:
        _confirm(len(loaded), names, viewer, settings)


def _ask() -> None:
    st.session_state[ASKING_KEY] = True


def _cancel() -> None:
    st.session_state.pop(ASKING_KEY, None)


def _confirm(count: int, names: str, viewer: Viewer, settings: Settings) -> None:
    # Drafts awaiting review go too, and nothing can bring them back: ask first.
    st.warning(
        f"This deletes the {count} demo tenants ({names}) for good, with "
        "their crons, runs, threads and drafts, including drafts awaiting review.",
        icon=":material/warning:",
    )
    yes, no, _ = st.columns([1, 1, 3])
    confirmed = yes.button(
        "Yes, remove them", key="remove-demo-confirm", type="primary"
    )
    no.button("Cancel", key="remove-demo-cancel", on_click=_cancel)
    if not confirmed:
        return

    st.session_state.pop(ASKING_KEY, None)
    with st.spinner("Removing the demo tenants…"):
        try:
            removed = demo.remove_demo(settings=settings, actor=viewer.actor)
        except MailcronError as err:
            st.error(str(err))
            return
    st.session_state[REMOVED_KEY] = (
        f"Removed {removed} demo tenants with their crons, runs, threads and drafts."
    )
    st.rerun()
