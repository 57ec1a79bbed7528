"""Runs: the history of ticks, newest first, filtered and paged."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from core import jobs
from core.localtime import show
from core.models import RUN_STATUSES
from core.timeutil import utcnow
from dashboard.auth import current_viewer
from dashboard.runtime import settings_or_stop
from dashboard.widgets import zone_caption
from dashboard.wording import readable

PAGE_SIZE = 50
RANGES = {
    "last hour": timedelta(hours=1),
    "last day": timedelta(days=1),
    "last week": timedelta(days=7),
    "all": None,
}

settings = settings_or_stop()
viewer = current_viewer()
st.title("Runs")
zone = zone_caption(viewer, settings)


def _filters() -> tuple[str | None, str | None, str]:
    tenant, status, period = st.columns(3)
    if viewer.is_admin:
        user_id = tenant.text_input(
            "Tenant (user id; empty for all)", key="runs-tenant"
        ).strip()
    else:
        user_id = viewer.user_id or ""
        tenant.text_input("Tenant", value=user_id, disabled=True, key="runs-tenant")
    chosen = status.selectbox(
        "Status", ("all", *RUN_STATUSES), key="runs-status", format_func=readable
    )
    period_name = period.selectbox("Started", list(RANGES), index=1, key="runs-range")
    return user_id or None, None if chosen == "all" else chosen, period_name


def _frame(rows: list[jobs.RunInfo]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run": row.id,
                "tenant": row.user_id,
                "trigger": row.trigger,
                "status": row.status,
                f"started ({zone})": show(row.started_at, zone),
                "duration (s)": row.duration_s,
                "emails": row.emails_fetched,
                "threads": row.threads_created,
                "error": (
                    f"{row.error_kind}: {row.error_message}" if row.error_kind else ""
                ),
            }
            for row in rows
        ]
    )


def main() -> None:
    user_id, status, period = _filters()
    page = int(st.session_state.get("runs-page", 1))
    span = RANGES[period]
    # One row more than the page tells whether a next page exists, without a
    # count over a million rows.
    rows = jobs.list_runs(
        viewer=viewer,
        user_id=user_id,
        status=status,
        since=utcnow() - span if span else None,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
        settings=settings,
    )
    if not rows:
        if page > 1:
            st.info("No runs on this page; go back to page 1.")
        else:
            st.info(
                "No runs match. Runs appear when a cron ticks or you press Run now "
                "on the Tenants & crons page; widen the time range or status filter."
            )
    else:
        st.dataframe(_frame(rows[:PAGE_SIZE]), hide_index=True, key="runs-table")
    more = len(rows) > PAGE_SIZE
    st.number_input(
        "Page",
        min_value=1,
        max_value=page + 1 if more else page,
        step=1,
        key="runs-page",
    )
    st.caption("More runs on the next page." if more else "This is the last page.")


main()
