"""Health: start-up checks with their hints."""

import streamlit as st

from core.checks import run_checks

st.title("Health")
checks = run_checks()
if not checks:
    st.success("All start-up checks pass.")
for check in checks:
    with st.container(border=True, key=f"check-{check.id}"):
        st.warning(check.message)
        st.caption(f"`{check.id}` · {check.hint}")
