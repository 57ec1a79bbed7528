"""Connect Gmail: add a mailbox, reconnect one that needs it, or disconnect one."""

import streamlit as st

from core.settings import get_settings
from dashboard.auth import current_viewer
from dashboard.connect_flow import connect_new, show_outcome, tenant_rows

st.title("Connect Gmail")
viewer = current_viewer()

settings = get_settings()
show_outcome()
st.write(
    "Connecting asks Google for two permissions only: reading your mail, and "
    "writing drafts and replies. Each connected mailbox gets its own cron at once."
)
connect_new(settings, viewer)
tenant_rows(settings, viewer)
