"""Scheduler & health: leader or standby, upcoming fires, skipped ticks, checks."""

import pandas as pd
import streamlit as st

from core.checks import run_checks
from core.localtime import show
from core.scheduler_view import scheduler_view
from dashboard.auth import current_viewer
from dashboard.runtime import process_scheduler, settings_or_stop
from dashboard.widgets import zone_caption

settings = settings_or_stop()
viewer = current_viewer()
st.title("Scheduler & health")
zone = zone_caption(viewer, settings)


def _scheduler() -> None:
    view = scheduler_view(
        scheduler=process_scheduler(settings.database_url), viewer=viewer
    )
    cols = st.columns(4)
    cols[0].metric("This process", view.role)
    cols[1].metric("Scheduled entries", view.entries)
    cols[2].metric("Missed ticks, last hour", view.missed_last_hour)
    cols[3].metric("Skipped ticks, last hour", view.skipped_last_hour)
    st.caption(f"Last heartbeat: {show(view.last_heartbeat, zone)}")
    if view.holder and view.role == "standby":
        st.caption(f"Scheduled jobs run in {view.holder}.")

    st.subheader("Next ten fire times")
    if settings.tick_spread_seconds:
        st.caption(
            "Minute-level crons start a fixed 0 to "
            f"{settings.tick_spread_seconds - 1} s after their minute, different per "
            "tenant (TICK_SPREAD_SECONDS), so tenants on one schedule do not all "
            "start at once; these times include it."
        )
    if not view.next_fires:
        st.info("Nothing is scheduled: add a tenant or resume a paused cron.")
        return
    frame = pd.DataFrame(
        [
            {"tenant": name, f"fires at ({zone})": show(when, zone)}
            for name, when in view.next_fires
        ]
    )
    st.dataframe(frame, hide_index=True, key="next-fires")


def _checks() -> None:
    st.subheader("Start-up checks")
    checks = run_checks(settings)
    if not checks:
        st.success("All start-up checks pass.")
    for check in checks:
        with st.container(border=True, key=f"check-{check.id}"):
            st.warning(check.message)
            st.caption(f"`{check.id}` · {check.hint}")


_scheduler()
_checks()
