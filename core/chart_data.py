"""Shapes the metrics' frames into what each Overview chart and table draws.

The metrics functions aggregate in SQL; these only reshape their small results
(at most a few hundred rows), so they are cheap and easy to test.
"""

from __future__ import annotations

import pandas as pd

from core.localtime import localise
from core.metrics import WindowSummary
from core.models import TENANT_STATUSES


def summary_table(windows: dict[str, WindowSummary]) -> pd.DataFrame:
    """One row per window: runs, failed runs, error rate and threads created."""
    return pd.DataFrame(
        [
            {
                "window": name,
                "runs": summary.runs,
                "errors": summary.errors,
                "error_rate": summary.error_rate,
                "threads_created": summary.threads_created,
            }
            for name, summary in windows.items()
        ],
        columns=["window", "runs", "errors", "error_rate", "threads_created"],
    )


def wall_clock(frame: pd.DataFrame, column: str, zone: str) -> pd.DataFrame:
    """A copy with `column` as naive wall-clock times in `zone`.

    Vega-Lite reads a naive time as the browser's local time and shows it as
    it is, so a chart shows the viewer's zone whatever zone the browser is in."""
    local = localise(frame, [column], zone)
    local[column] = local[column].dt.tz_localize(None)
    return local


def runs_stacked(frame: pd.DataFrame, zone: str) -> pd.DataFrame:
    """Runs per (minute, status) with the minute on the viewer's wall clock."""
    return wall_clock(frame, "minute", zone)


def durations_long(frame: pd.DataFrame, zone: str) -> pd.DataFrame:
    """p50/p95 per minute as long rows (minute, percentile, seconds) for one chart."""
    local = wall_clock(frame, "minute", zone)
    long = local.melt(
        id_vars=["minute"],
        value_vars=["p50", "p95"],
        var_name="percentile",
        value_name="seconds",
    )
    long = long.dropna(subset=["seconds"])
    return long.sort_values(["minute", "percentile"]).reset_index(drop=True)


def worst_tenants(frame: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The tenants with failures, worst first, error rate as a percentage."""
    failing = frame[frame["errors"] > 0].head(limit).copy()
    failing["error_pct"] = (failing["error_rate"] * 100).round(1)
    return failing.reset_index(drop=True)


def tenant_status_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Tenants per status, every status present (zero when none)."""
    counts = dict(zip(frame["status"], frame["tenants"], strict=True))
    return {status: int(counts.get(status, 0)) for status in TENANT_STATUSES}
