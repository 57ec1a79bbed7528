"""The tenants table: exact figures per row, filters, paging and isolation."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from core import crons, tenant_table
from core.cron_expr import next_fire_times, start_offset
from core.errors import InvalidInput
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.console.seed import add_user, seed_world

ADMIN = Viewer.admin()


@pytest.fixture
def world(settings: Settings) -> Settings:
    seed_world(settings)
    return settings


def _rows(page: tenant_table.TenantPage) -> dict[str, dict]:
    return {row["user_id"]: row for row in page.rows.to_dict("records")}


def test_page_shows_last_run_and_day_figures(world: Settings) -> None:
    page = tenant_table.tenant_page(viewer=ADMIN, settings=world)

    rows = _rows(page)
    assert page.total == 3 and list(page.rows.user_id) == ["ann", "bob", "cat"]
    ann = rows["ann"]
    assert ann["last_run_status"] == "skipped"
    assert ann["last_run_duration_s"] == 0.0
    assert (ann["runs_24h"], ann["threads_24h"]) == (3, 2)
    assert ann["error_rate_24h"] == pytest.approx(1 / 3)
    assert ann["description"] == "Every 5 minutes"
    assert not pd.isna(ann["next_run"]) and ann["next_run"].minute % 5 == 0


def test_page_shows_pause_reason_and_missing_cron(world: Settings) -> None:
    rows = _rows(tenant_table.tenant_page(viewer=ADMIN, settings=world))

    bob, cat = rows["bob"], rows["cat"]
    assert (bob["cron_status"], bob["pause_reason"]) == ("paused", "on leave")
    assert pd.isna(bob["next_run"])
    assert bob["error_rate_24h"] == 1.0 and bob["last_run_duration_s"] == 600.0
    assert (cat["cron_status"], cat["tenant_status"]) == ("no cron", "needs_reauth")
    assert (cat["runs_24h"], cat["threads_24h"], cat["error_rate_24h"]) == (0, 1, 0.0)
    assert pd.isna(cat["last_run_status"])


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["ann"]),
        ("paused", ["bob"]),
        ("no_cron", ["cat"]),
        ("needs_reauth", ["cat"]),
        ("disabled", []),
    ],
)
def test_status_filter_selects_matching_rows(
    world: Settings, status: str, expected: list[str]
) -> None:
    page = tenant_table.tenant_page(viewer=ADMIN, status=status, settings=world)

    assert list(page.rows.user_id) == expected
    assert page.total == len(expected)


def test_search_matches_part_of_the_email(world: Settings) -> None:
    page = tenant_table.tenant_page(viewer=ADMIN, search="BOB@acme", settings=world)

    assert list(page.rows.user_id) == ["bob"]


def test_search_treats_percent_literally(world: Settings) -> None:
    page = tenant_table.tenant_page(viewer=ADMIN, search="%", settings=world)

    assert page.total == 0


def test_paging_counts_every_match(world: Settings) -> None:
    for n in range(7):
        add_user(world, f"zed{n}")

    second = tenant_table.tenant_page(viewer=ADMIN, offset=4, limit=4, settings=world)

    assert second.total == 10
    assert list(second.rows.user_id) == ["zed1", "zed2", "zed3", "zed4"]
    assert second.has_next


def test_tenant_viewer_sees_only_their_own_row(world: Settings) -> None:
    page = tenant_table.tenant_page(viewer=Viewer.tenant("bob"), settings=world)

    assert list(page.rows.user_id) == ["bob"] and page.total == 1


def test_unknown_status_filter_is_refused(world: Settings) -> None:
    with pytest.raises(InvalidInput, match="Unknown status filter"):
        tenant_table.tenant_page(viewer=ADMIN, status="sleepy", settings=world)


def test_empty_database_gives_empty_frame_with_columns(settings: Settings) -> None:
    page = tenant_table.tenant_page(viewer=ADMIN, settings=settings)

    assert page.total == 0 and list(page.rows.columns) == tenant_table.COLUMNS


def test_next_run_includes_the_crons_start_offset(world: Settings) -> None:
    cron = crons.get_cron(user_id="ann", viewer=ADMIN, settings=world)
    offset = start_offset(cron.cron_id, cron.schedule, world.tick_spread_seconds)

    ann = _rows(tenant_table.tenant_page(viewer=ADMIN, settings=world))["ann"]

    assert ann["start_offset_s"] == offset
    assert 0 <= offset < world.tick_spread_seconds
    nominal = next_fire_times(cron.schedule, cron.timezone, utcnow(), 1)[0]
    assert ann["next_run"] == nominal + timedelta(seconds=offset)
