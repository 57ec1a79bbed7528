"""Tenants & crons: the table, per-row pause/resume and Run now, and management."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from core import console_actions as actions
from core import tenant_table
from core.errors import MailcronError
from core.models import DEFAULT_SCHEDULE
from dashboard import auth, tenant_columns
from dashboard.runtime import settings_or_stop
from dashboard.widgets import (
    add_tenant_help,
    attempt,
    flash,
    pager,
    show_flash,
    zone_caption,
)
from dashboard.wording import mid_sentence, or_default, readable

PAGE_SIZE = 25
STATUS_CHOICES = ("all", *tenant_table.STATUS_FILTERS)
FORM_KEYS = ("schedule-input", "timezone-input", "pause-reason", "delete-confirm")

settings = settings_or_stop()
viewer = auth.current_viewer()
st.title("Tenants & crons")
zone = zone_caption(viewer, settings)
show_flash()


def _toggle_changed(user_id: str, key: str) -> None:
    wanted_active = st.session_state[key]
    if wanted_active:
        attempt(
            actions.resume,
            done=f"The cron of {user_id} is running again.",
            viewer=viewer,
            user_id=user_id,
            settings=settings,
        )
    else:
        attempt(
            actions.pause,
            done=f"The cron of {user_id} is paused.",
            viewer=viewer,
            user_id=user_id,
            reason="paused from the console",
            settings=settings,
        )


def _run_now(user_id: str) -> None:
    with st.spinner(f"Running the tick of {user_id}…"):
        run = attempt(
            actions.run_now,
            done="",
            viewer=viewer,
            user_id=user_id,
            settings=settings,
        )
    if run is not None:
        flash(
            f"Run {run.id} of {user_id} finished: {run.status}, "
            f"{run.emails_fetched} email(s), {run.threads_created} new thread(s)."
        )
    st.rerun()


def _filters() -> tuple[str | None, str | None]:
    left, right = st.columns([3, 1])
    search = left.text_input(
        "Search by email", key="tenants-search", placeholder="part of an address"
    )
    status = right.selectbox(
        "Status", STATUS_CHOICES, key="tenants-status", format_func=readable
    )
    return search.strip() or None, None if status == "all" else status


def _table(page: tenant_table.TenantPage) -> None:
    st.dataframe(
        tenant_columns.shown(page.rows, zone),
        hide_index=True,
        key="tenants-table",
        column_config=tenant_columns.labels(zone),
    )


def _row_controls(page: tenant_table.TenantPage) -> None:
    for row in page.rows.itertuples():
        key = f"active-{row.user_id}"
        has_cron = row.cron_status in ("active", "paused")
        st.session_state[key] = row.cron_status == "active"
        name, toggle, run, status = st.columns([3, 2, 1, 3])
        name.write(f"**{row.user_id}** · {row.email}")
        toggle.toggle(
            _toggle_label(row.cron_status),
            key=key,
            disabled=not has_cron,
            on_change=_toggle_changed,
            args=(row.user_id, key),
        )
        if run.button("Run now", key=f"run-{row.user_id}"):
            _run_now(row.user_id)
        status.caption(_status_line(row))


def _toggle_label(cron_status: str) -> str:
    # The label says what the cron is now, so an off switch does not read "Active".
    return {"active": "Active", "paused": "Paused"}.get(cron_status, "No cron")


def _status_line(row: Any) -> str:
    # Cells of a tenant without runs hold NaN when other rows have values.
    text = f"last run: {readable(or_default(row.last_run_status))}"
    reason = or_default(row.pause_reason, "")
    if row.cron_status == "paused" and reason:
        text += f" · paused: {reason}"
    return text


def _bulk(page: tenant_table.TenantPage) -> None:
    chosen = st.multiselect(
        "Tenants on this page", list(page.rows.user_id), key="bulk-selected"
    )
    left, right = st.columns(2)
    pause_them = left.button("Pause selected", key="bulk-pause", disabled=not chosen)
    resume_them = right.button(
        "Resume selected", key="bulk-resume", disabled=not chosen
    )
    if not (pause_them or resume_them):
        return
    with st.spinner(f"Updating {len(chosen)} cron(s)…"):
        result = actions.bulk(
            viewer=viewer, user_ids=chosen, pause_them=pause_them, settings=settings
        )
    verb = "Paused" if pause_them else "Resumed"
    message = f"{verb} {len(result.done)} cron(s)."
    if result.refused:
        refused = "; ".join(f"{uid}: {why}" for uid, why in result.refused.items())
        flash(f"{message} Refused: {refused}", "error")
    else:
        flash(message)
    st.rerun()


def _schedule_form(user_id: str, row: Any) -> None:
    with st.form(key="schedule-form"):
        schedule = st.text_input(
            "Schedule (crontab)", value=row.schedule, key="schedule-input"
        )
        timezone = st.text_input(
            "Timezone (IANA)", value=row.timezone, key="timezone-input"
        )
        saved = st.form_submit_button("Save schedule", key="schedule-save")
    if not saved:
        return
    try:
        cron = actions.reschedule(
            viewer=viewer,
            user_id=user_id,
            schedule=schedule,
            timezone=timezone,
            settings=settings,
        )
    except MailcronError as err:
        # Inline, next to the form: the service's own sentence; nothing was saved.
        st.error(str(err), icon="⚠️")
        return
    description = mid_sentence(cron.description)
    flash(f"The cron of {user_id} now runs {description} ({cron.timezone}).")
    st.rerun()


def _pause_form(user_id: str) -> None:
    with st.form(key="pause-form"):
        reason = st.text_input("Reason", key="pause-reason")
        until = st.checkbox("Resume by itself at a set time", key="pause-until")
        day = st.date_input(
            f"Resume on ({zone})",
            value=date.today() + timedelta(days=1),
            key="pause-resume-date",
        )
        moment = st.time_input("at", value=time(9, 0), key="pause-resume-time")
        paused = st.form_submit_button("Pause", key="pause-save")
    if not paused:
        return
    resume_at = None
    if until:
        local = datetime.combine(day, moment, tzinfo=ZoneInfo(zone))
        resume_at = local.astimezone(UTC)
    attempt(
        actions.pause,
        done=f"The cron of {user_id} is paused.",
        viewer=viewer,
        user_id=user_id,
        reason=reason,
        resume_at=resume_at,
        settings=settings,
    )
    st.rerun()


def _delete_form(user_id: str) -> None:
    whole = (
        st.radio(
            "Remove",
            ("the cron only", "the whole tenant"),
            key="delete-what",
            horizontal=True,
        )
        == "the whole tenant"
    )
    try:
        summary = actions.removal_summary(
            viewer=viewer, user_id=user_id, whole_tenant=whole, settings=settings
        )
    except MailcronError as err:
        st.info(str(err))
        if not whole:
            return
        summary = f"This removes tenant {user_id} and all their data, for good."
    st.warning(summary)
    sure = st.checkbox(f"Yes, remove it ({user_id})", key="delete-confirm")
    if not st.button("Delete", key="delete-go", type="primary"):
        return
    if not sure:
        st.error("Tick the confirmation first; nothing was removed.")
        return
    action = actions.delete_tenant if whole else actions.delete_cron
    what = f"Tenant {user_id} and their data" if whole else f"The cron of {user_id}"
    attempt(
        action,
        done=f"{what} removed.",
        viewer=viewer,
        user_id=user_id,
        settings=settings,
    )
    st.session_state.pop("delete-confirm", None)
    st.rerun()


def _forget_forms() -> None:
    # The forms keep one set of keys; another tenant must not inherit their values.
    for key in FORM_KEYS:
        st.session_state.pop(key, None)


def _manage(page: tenant_table.TenantPage) -> None:
    st.subheader("Manage a tenant")
    user_id = st.selectbox(
        "Tenant",
        list(page.rows.user_id),
        key="manage-tenant",
        on_change=_forget_forms,
    )
    if user_id is None:
        return
    row = next(r for r in page.rows.itertuples() if r.user_id == user_id)
    schedule_tab, pause_tab, delete_tab = st.tabs(["Schedule", "Pause", "Delete"])
    with schedule_tab:
        if row.cron_status in ("active", "paused"):
            _schedule_form(user_id, row)
        else:
            st.info("This tenant has no cron; add one with create-user-cron.")
    with pause_tab:
        _pause_form(user_id)
    with delete_tab:
        _delete_form(user_id)


def _add_tenant() -> None:
    if not viewer.is_admin:
        return
    with st.expander("Add a folder tenant", expanded=False):
        st.caption("Gmail tenants come from the Connect Gmail page.")
        with st.form(key="add-form", clear_on_submit=False):
            user_id = st.text_input("User id", key="add-user-id")
            email = st.text_input("Email", key="add-email")
            name = st.text_input("Display name", key="add-name")
            folder = st.text_input(
                "Mailbox folder (.eml files or Maildir)", key="add-folder"
            )
            schedule = st.text_input(
                "Schedule", value=DEFAULT_SCHEDULE, key="add-schedule"
            )
            timezone = st.text_input(
                "Timezone", value=settings.default_timezone, key="add-timezone"
            )
            added = st.form_submit_button("Add tenant", key="add-save")
        if not added:
            return
        try:
            cron = actions.add_folder_tenant(
                viewer=viewer,
                user_id=user_id,
                email=email,
                mailbox_path=folder,
                display_name=name,
                schedule=schedule,
                timezone=timezone,
                settings=settings,
            )
        except MailcronError as err:
            st.error(str(err), icon="⚠️")
            return
        description = mid_sentence(cron.description)
        flash(f"Tenant {cron.user_id} added; their cron runs {description}.")
        st.rerun()


def main() -> None:
    search, status = _filters()
    offset = (int(st.session_state.get("tenants-page", 1)) - 1) * PAGE_SIZE
    page = tenant_table.tenant_page(
        viewer=viewer,
        search=search,
        status=status,
        offset=offset,
        limit=PAGE_SIZE,
        settings=settings,
    )
    if page.total == 0:
        if search or status:
            st.info("No tenant matches; clear the search or the status filter.")
        else:
            st.info("There are no tenants yet. Add one:")
            add_tenant_help()
        _add_tenant()
        return
    _table(page)
    pager("tenants-page", page.total, PAGE_SIZE)
    if page.rows.empty:
        st.info("This page is past the last tenant; go back to page 1.")
        return
    st.subheader("Pause, resume, run now")
    _row_controls(page)
    _bulk(page)
    _manage(page)
    _add_tenant()


main()
