"""Home: what mailcron is doing, and how to add the first tenant."""

import streamlit as st

from dashboard.widgets import add_tenant_help

st.title("mailcron")
st.write(
    "mailcron runs an email assistant for each tenant on that tenant's own schedule: "
    "every tick fetches new mail, triages each thread and drafts replies for review."
)

st.subheader("Add a tenant")
add_tenant_help()
