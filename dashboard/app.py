"""The Streamlit entry: `streamlit run dashboard/app.py`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.connect_flow import handle_oauth_return
from dashboard.runtime import process_scheduler, settings_or_stop

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

st.set_page_config(page_title="mailcron", page_icon="✉️", layout="wide")
settings = settings_or_stop()
process_scheduler(settings.database_url)

navigation = st.navigation(
    [
        st.Page(
            PAGES_DIR / "home.py",
            title="Home",
            icon="🏠",
            url_path="home",
            default=True,
        ),
        st.Page(
            PAGES_DIR / "connect.py",
            title="Connect Gmail",
            icon="✉️",
            url_path="connect",
        ),
        st.Page(PAGES_DIR / "health.py", title="Health", icon="🩺", url_path="health"),
    ]
)
# Google's consent page sends the browser back to the root; pages are known by now.
handle_oauth_return(settings)
navigation.run()
