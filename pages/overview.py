"""Overview: tenants by status, recent runs and errors, and four charts.

The figures refresh themselves every few seconds inside a fragment, so the rest
of the page (and any widget state) is left alone.
"""

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from core import chart_data, metrics
from dashboard.auth import current_viewer
from dashboard.runtime import settings_or_stop
from dashboard.widgets import add_tenant_help, zone_caption

REFRESH_SECONDS = 5
# Counts are whole: no 0.5 runs between the ticks.
COUNT_AXIS = alt.Axis(tickMinStep=1, format="d")

settings = settings_or_stop()
viewer = current_viewer()
st.title("Overview")
zone = zone_caption(viewer, settings)


def _tiles(figures: dict[str, Any]) -> None:
    counts = chart_data.tenant_status_counts(figures["tenants"])
    hour, day = figures["last_hour"], figures["last_day"]
    cols = st.columns(6)
    cols[0].metric("Active tenants", counts["active"])
    cols[1].metric("Need reauth", counts["needs_reauth"])
    cols[2].metric("Runs, last hour", hour.runs)
    cols[3].metric("Error rate, last hour", f"{hour.error_rate:.1%}")
    cols[4].metric("Runs, last day", day.runs)
    cols[5].metric("Threads, last day", day.threads_created)
    table = chart_data.summary_table({"last hour": hour, "last day": day})
    st.dataframe(
        table,
        hide_index=True,
        key="overview-summary",
        column_config={
            "error_rate": st.column_config.NumberColumn("error rate", format="percent"),
            "threads_created": st.column_config.NumberColumn("threads created"),
        },
    )


def _by_minute(frame: pd.DataFrame) -> tuple[pd.DataFrame, alt.X]:
    """The frame with an "HH:MM" label per row, and an x axis of those labels.

    Ordinal rather than temporal: a time axis puts ticks between the minutes,
    where several read the same "HH:MM"; here each minute is one band."""
    labelled = frame.assign(at=frame["minute"].dt.strftime("%H:%M"))
    order = list(dict.fromkeys(labelled.sort_values("minute")["at"]))
    axis = alt.X(
        "at:O",
        sort=order,
        title=f"Minute ({zone})",
        axis=alt.Axis(labelAngle=0, labelOverlap=True),
    )
    return labelled, axis


def _runs_chart(figures: dict[str, Any]) -> None:
    frame = chart_data.runs_stacked(figures["runs_per_minute"], zone)
    if frame.empty:
        st.info("No runs in the last hour; crons that are active will add some.")
        return
    frame, minute_axis = _by_minute(frame)
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=minute_axis,
            y=alt.Y("runs:Q", stack="zero", title="Runs", axis=COUNT_AXIS),
            color=alt.Color("status:N", title="Status"),
            tooltip=[alt.Tooltip("at:O", title="minute"), "status:N", "runs:Q"],
        )
    )
    st.altair_chart(chart, width="stretch", key="chart-runs")


def _duration_chart(figures: dict[str, Any]) -> None:
    frame = chart_data.durations_long(figures["durations"], zone)
    if frame.empty:
        st.info("No finished runs in the last hour to time.")
        return
    frame, minute_axis = _by_minute(frame)
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=minute_axis,
            y=alt.Y("seconds:Q", title="Run duration (s)"),
            color=alt.Color("percentile:N", title="Percentile"),
            tooltip=[alt.Tooltip("at:O", title="minute"), "percentile:N", "seconds:Q"],
        )
    )
    st.altair_chart(chart, width="stretch", key="chart-durations")


def _bar(
    frame: pd.DataFrame, field: str, title: str, key: str, counts: bool = False
) -> None:
    axis = COUNT_AXIS if counts else alt.Undefined
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{field}:Q", title=title, axis=axis),
            y=alt.Y("user_id:N", sort="-x", title="Tenant"),
            tooltip=list(frame.columns),
        )
    )
    st.altair_chart(chart, width="stretch", key=key)


@st.fragment(run_every=REFRESH_SECONDS)
def live_figures() -> None:
    figures: dict[str, Any] = metrics.overview(viewer=viewer, settings=settings)
    if figures["tenants"].empty:
        st.info("There are no tenants yet. Add one to see figures here:")
        add_tenant_help()
        return
    _tiles(figures)

    left, right = st.columns(2)
    with left:
        st.subheader("Runs per minute, by status")
        _runs_chart(figures)
        st.subheader("Error rate by tenant, worst ten (24 h)")
        worst = chart_data.worst_tenants(figures["worst_tenants"])
        if worst.empty:
            st.success("No failed runs in the last day.")
        else:
            _bar(worst, "error_pct", "Failed runs (%)", "chart-errors")
    with right:
        st.subheader("Run duration, p50 and p95")
        _duration_chart(figures)
        st.subheader("Threads created per tenant (24 h)")
        if figures["threads"].empty:
            st.info("No threads created in the last day.")
        else:
            top = figures["threads"].head(20)
            _bar(top, "threads", "Threads", "chart-threads", counts=True)


live_figures()
