"""The Streamlit entry: `streamlit run dashboard/app.py`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.auth import resolve_viewer
from dashboard.connect_flow import handle_oauth_return
from dashboard.demo_banner import demo_notice
from dashboard.runtime import process_scheduler, settings_or_stop

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

st.set_page_config(page_title="mailcron", page_icon="✉️", layout="wide")
settings = settings_or_stop()
process_scheduler(settings.database_url)
# Sign-in comes before any page: a stranger gets the sign-in page and nothing else.
viewer = resolve_viewer()
if viewer is None:
    st.stop()
demo_notice(viewer, settings)

navigation = st.navigation(
    [
        st.Page(
            PAGES_DIR / "overview.py",
            title="Overview",
            icon=":material/monitoring:",
            url_path="overview",
            default=True,
        ),
        st.Page(
            PAGES_DIR / "tenants.py",
            title="Tenants & crons",
            icon=":material/schedule:",
            url_path="tenants",
        ),
        st.Page(
            PAGES_DIR / "tenant_settings.py",
            title="Tenant settings",
            icon=":material/tune:",
            url_path="settings",
        ),
        st.Page(
            PAGES_DIR / "connect.py",
            title="Connect Gmail",
            icon=":material/mail:",
            url_path="connect",
        ),
        st.Page(
            PAGES_DIR / "runs.py",
            title="Runs",
            icon=":material/history:",
            url_path="runs",
        ),
        st.Page(
            PAGES_DIR / "threads.py",
            title="Threads",
            icon=":material/forum:",
            url_path="threads",
        ),
        st.Page(
            PAGES_DIR / "health.py",
            title="Scheduler & health",
            icon=":material/health_and_safety:",
            url_path="health",
        ),
        st.Page(
            PAGES_DIR / "home.py",
            title="Getting started",
            icon=":material/help:",
            url_path="home",
        ),
    ]
)
# Google's consent page sends the browser back to the root; pages are known by now.
handle_oauth_return(settings)
navigation.run()
