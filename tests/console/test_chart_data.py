"""Chart shaping on the metrics' seeded database: exactly the seeded numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from core import chart_data, console_actions, metrics
from core.localtime import show, viewer_zone
from core.settings import Settings
from core.viewer import Viewer
from tests.test_metrics import MINUTE_A, MINUTE_B, _seed

ADMIN = Viewer.admin()


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    _seed(settings)
    return settings


def _wall(moment: datetime, zone: str) -> pd.Timestamp:
    minute = pd.Timestamp(moment.replace(second=0)).tz_convert(zone)
    return minute.tz_localize(None)


def test_durations_long_gives_one_row_per_minute_and_percentile(
    seeded: Settings,
) -> None:
    frame = metrics.duration_percentiles(
        viewer=ADMIN, since=MINUTE_A.replace(minute=0), settings=seeded
    )

    long = chart_data.durations_long(frame, "Europe/Berlin")

    assert list(long.itertuples(index=False, name=None)) == [
        (_wall(MINUTE_A, "Europe/Berlin"), "p50", 2.0),
        (_wall(MINUTE_A, "Europe/Berlin"), "p95", 4.0),
        (_wall(MINUTE_B, "Europe/Berlin"), "p50", 10.0),
        (_wall(MINUTE_B, "Europe/Berlin"), "p95", 20.0),
    ]


def test_runs_stacked_moves_minutes_to_the_wall_clock(seeded: Settings) -> None:
    frame = metrics.runs_per_minute(
        viewer=ADMIN, since=MINUTE_A.replace(minute=0), settings=seeded
    )

    stacked = chart_data.runs_stacked(frame, "America/New_York")

    got = {(row.minute, row.status): row.runs for row in stacked.itertuples()}
    a, b = _wall(MINUTE_A, "America/New_York"), _wall(MINUTE_B, "America/New_York")
    assert got == {
        (a, "error"): 1,
        (a, "ok"): 3,
        (b, "ok"): 1,
        (b, "skipped"): 1,
        (b, "timeout"): 1,
    }
    assert stacked.minute.dt.tz is None


def test_worst_tenants_in_percent_worst_first(seeded: Settings) -> None:
    frame = metrics.error_rate_by_tenant(
        viewer=ADMIN, since=datetime(2000, 1, 1, tzinfo=UTC), settings=seeded
    )

    worst = chart_data.worst_tenants(frame)

    assert list(worst.user_id) == ["cat", "bob", "ann"]
    assert list(worst.error_pct) == [100.0, 50.0, 25.0]


def test_worst_tenants_leaves_out_tenants_without_failures() -> None:
    frame = pd.DataFrame(
        [("a", 4, 0, 0.0), ("b", 2, 1, 0.5)],
        columns=["user_id", "runs", "errors", "error_rate"],
    )

    assert list(chart_data.worst_tenants(frame).user_id) == ["b"]


def test_summary_table_has_one_row_per_window(seeded: Settings) -> None:
    figures = metrics.overview(viewer=ADMIN, settings=seeded)

    table = chart_data.summary_table(
        {"last hour": figures["last_hour"], "last day": figures["last_day"]}
    )

    assert table.to_dict("records") == [
        {
            "window": "last hour",
            "runs": 6,
            "errors": 2,
            "error_rate": pytest.approx(2 / 6),
            "threads_created": 4,
        },
        {
            "window": "last day",
            "runs": 7,
            "errors": 3,
            "error_rate": pytest.approx(3 / 7),
            "threads_created": 4,
        },
    ]


def test_tenant_status_counts_names_every_status(seeded: Settings) -> None:
    frame = metrics.tenants_by_status(viewer=ADMIN, settings=seeded)

    assert chart_data.tenant_status_counts(frame) == {
        "active": 2,
        "needs_reauth": 1,
        "disabled": 0,
    }


def test_show_names_the_zone() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)

    assert show(summer, "Europe/Berlin") == "2026-07-01 14:00:00 CEST"
    assert show(None, "Europe/Berlin") == "—"


def test_viewer_zone_is_the_tenants_preference_or_the_default(
    seeded: Settings,
) -> None:
    console_actions.save_prefs(
        viewer=ADMIN,
        user_id="bob",
        prefs={"name": "Bob", "timezone": "Asia/Tokyo"},
        settings=seeded,
    )

    assert viewer_zone(viewer=Viewer.tenant("bob"), settings=seeded) == "Asia/Tokyo"
    assert viewer_zone(viewer=Viewer.tenant("ann"), settings=seeded) == "UTC"
    assert viewer_zone(viewer=ADMIN, settings=seeded) == "UTC"
