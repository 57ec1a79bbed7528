"""The tenants table as the page shows it: readable headers, cells and empty cells.

The frame keeps core's column names (tests and core use them); only the labels
and the shown copy change.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.localtime import show
from dashboard.wording import is_missing, or_default, readable

EMPTY = "—"
TIME_COLUMNS = ("next_run", "last_run_at", "resume_at")
TEXT_COLUMNS = ("pause_reason", "schedule", "description", "timezone")
STATUS_COLUMNS = ("tenant_status", "cron_status", "last_run_status")


def shown(rows: pd.DataFrame, zone: str) -> pd.DataFrame:
    """A copy with times in `zone` and empty cells as a dash, not "None" or "nan"."""
    table = rows.copy()
    for column in TIME_COLUMNS:
        table[column] = [show(value, zone) for value in table[column]]
    for column in TEXT_COLUMNS:
        table[column] = [or_default(value, EMPTY) for value in table[column]]
    for column in STATUS_COLUMNS:
        table[column] = [
            EMPTY if is_missing(value) else readable(value) for value in table[column]
        ]
    return table


def labels(zone: str) -> dict[str, Any]:
    """A header for every column of the tenants frame."""
    text = st.column_config.TextColumn
    number = st.column_config.NumberColumn
    return {
        "user_id": text("tenant"),
        "email": text("email"),
        "mail_source": text("mail source"),
        "tenant_status": text("tenant status"),
        "cron_status": text("cron status"),
        "pause_reason": text("pause reason"),
        "resume_at": text(f"resumes at ({zone})"),
        "schedule": text("schedule"),
        "description": text("schedule in words"),
        "timezone": text("cron timezone"),
        "start_offset_s": number(
            "starts at (s)",
            help="Seconds after each scheduled minute that this tenant's tick "
            "starts: a fixed spread, so tenants on one schedule do not all start "
            "at once. Next run includes it.",
        ),
        "next_run": text(f"next run ({zone})"),
        "last_run_status": text("last run"),
        "last_run_at": text(f"last run at ({zone})"),
        "last_run_duration_s": number("last run took (s)", format="%.2f"),
        "runs_24h": number("runs 24 h"),
        "threads_24h": number("threads 24 h"),
        "error_rate_24h": number("error rate 24 h", format="percent"),
    }
