"""Process-wide objects for the console, built once per process, not per rerun."""

from __future__ import annotations

import streamlit as st

from core import scheduler, startup
from core.errors import ConfigError
from core.settings import Settings, get_settings


@st.cache_resource(show_spinner="Preparing the database…")
def _prepared(database_url: str) -> bool:
    """Logging configured and the schema at head, once per process and database."""
    startup.prepare(get_settings())
    return True


def settings_or_stop() -> Settings:
    """The settings, or a one-line error on the page and nothing else."""
    try:
        settings = get_settings()
    except ConfigError as err:
        st.error(f"mailcron cannot start: bad setting {err}")
        st.stop()
        raise  # unreachable: st.stop() ends the script run
    _prepared(settings.database_url)
    return settings


# A scheduler stopped by its owner (tests, shutdown) is replaced, not handed out.
@st.cache_resource(show_spinner=False, validate=lambda found: found.running)
def process_scheduler(database_url: str) -> scheduler.Scheduler:
    """The process's scheduler, started once however many sessions and reruns."""
    return scheduler.get_scheduler(get_settings()).start()
