"""Threads: what the assistant made of each email thread; review drafts here."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.agent import service
from core.agent.threads import THREAD_STATUSES, ThreadPublic
from core.localtime import show
from dashboard.auth import current_viewer
from dashboard.runtime import settings_or_stop
from dashboard.widgets import attempt, show_flash, zone_caption
from dashboard.wording import readable

PAGE_SIZE = 25

settings = settings_or_stop()
viewer = current_viewer()
st.title("Threads")
zone = zone_caption(viewer, settings)
show_flash()


def _filters() -> tuple[str | None, str | None]:
    tenant, status = st.columns(2)
    if viewer.is_admin:
        user_id = tenant.text_input(
            "Tenant (user id; empty for all)", key="threads-tenant"
        ).strip()
    else:
        user_id = viewer.user_id or ""
        tenant.text_input("Tenant", value=user_id, disabled=True, key="threads-tenant")
    chosen = status.selectbox(
        "Status", ("all", *THREAD_STATUSES), key="threads-status", format_func=readable
    )
    return user_id or None, None if chosen == "all" else chosen


def _table(rows: list[ThreadPublic]) -> None:
    frame = pd.DataFrame(
        [
            {
                "tenant": row.owner,
                "subject": row.subject,
                "sender": row.sender,
                "triage": row.triage,
                "reason": row.reason,
                "status": readable(row.status),
                f"updated ({zone})": show(row.updated_at, zone),
            }
            for row in rows
        ]
    )
    st.dataframe(frame, hide_index=True, key="threads-table")


def _act(action: Callable[..., object], done: str, **kwargs: object) -> None:
    with st.spinner("Working…"):
        attempt(action, done=done, viewer=viewer, settings=settings, **kwargs)
    st.rerun()


def _review(row: ThreadPublic) -> None:
    label = f"{row.subject or '(no subject)'} · from {row.sender} · {row.owner}"
    with st.expander(label, expanded=True):
        st.caption(f"{row.triage}: {row.reason}")
        if row.status == "awaiting_ack":
            if st.button("Acknowledge", key=f"ack-{row.thread_id}"):
                _act(service.acknowledge, "Acknowledged.", thread_id=row.thread_id)
            return
        text = st.text_area(
            "Draft reply", value=row.draft or "", key=f"draft-{row.thread_id}"
        )
        send, edited, reject = st.columns(3)
        if send.button("Approve and send", key=f"approve-{row.thread_id}"):
            _act(service.approve_draft, "Reply sent.", thread_id=row.thread_id)
        if edited.button("Send my edit", key=f"edit-{row.thread_id}"):
            _act(
                service.approve_draft,
                "Edited reply sent.",
                thread_id=row.thread_id,
                text=text,
            )
        if reject.button("Reject", key=f"reject-{row.thread_id}"):
            _act(service.reject_draft, "Draft rejected.", thread_id=row.thread_id)


def main() -> None:
    user_id, status = _filters()
    page = int(st.session_state.get("threads-page", 1))
    rows = service.list_threads(
        viewer=viewer,
        user_id=user_id,
        status=status,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
        settings=settings,
    )
    if not rows:
        st.info(
            "No threads here yet. Threads appear after a tenant's cron has run on "
            "new mail; press Run now on the Tenants & crons page to fetch now."
        )
    else:
        _table(rows[:PAGE_SIZE])
    more = len(rows) > PAGE_SIZE
    st.number_input(
        "Page",
        min_value=1,
        max_value=page + 1 if more else page,
        step=1,
        key="threads-page",
    )

    waiting = [
        r for r in rows[:PAGE_SIZE] if r.status in ("awaiting_review", "awaiting_ack")
    ]
    if waiting:
        st.subheader("Waiting for you")
    for row in waiting:
        _review(row)


main()
