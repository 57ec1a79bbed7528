"""The demo notice: which tenants are the demo's, and one button that removes them."""

from __future__ import annotations

import streamlit as st

from core import demo
from core.errors import MailcronError
from core.settings import Settings
from core.viewer import Viewer

REMOVED_KEY = "_demo-removed"


def demo_notice(viewer: Viewer, settings: Settings) -> None:
    """For admins, while demo tenants exist: say so, and offer to remove them."""
    if not viewer.is_admin:
        return
    if REMOVED_KEY in st.session_state:
        st.success(st.session_state.pop(REMOVED_KEY), icon=":material/check:")
    loaded = demo.demo_tenants(settings=settings)
    if not loaded:
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
    if button.button("Remove demo tenants", key="remove-demo", type="secondary"):
        with st.spinner("Removing the demo tenants…"):
            try:
                count = demo.remove_demo(settings=settings, actor=viewer.actor)
            except MailcronError as err:
                st.error(str(err))
                return
        st.session_state[REMOVED_KEY] = (
            f"Removed {count} demo tenants with their crons, runs and threads."
        )
        st.rerun()
