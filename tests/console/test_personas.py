"""A tenant viewer sees only their own rows, on every page of the console."""

from __future__ import annotations

import pytest

from core import console_actions as actions
from core.settings import Settings
from core.viewer import Viewer
from tests.console.pages_kit import open_page, table, texts
from tests.console.seed import add_cron, seed_world

# Ann signs in with her mailbox address, so the console shows her as that tenant.
ANN = {"is_logged_in": True, "email": "ann@acme.example", "email_verified": True}


@pytest.fixture
def as_ann(sqlite_settings: Settings) -> Settings:
    """The seeded world plus an active cron for dan, seen by tenant ann."""
    seed_world(sqlite_settings)
    add_cron(sqlite_settings, "dan", "*/2 * * * *")
    actions.save_prefs(
        viewer=Viewer.admin(),
        user_id="ann",
        prefs={"name": "Ann", "timezone": "Europe/Berlin"},
        settings=sqlite_settings,
    )
    return sqlite_settings


def test_overview_counts_only_their_own(as_ann: Settings) -> None:
    at = open_page("overview", user=ANN)

    figures = {metric.label: metric.value for metric in at.metric}
    assert figures["Active tenants"] == "1" and figures["Need reauth"] == "0"
    assert figures["Runs, last day"] == "3"
    assert figures["Threads, last day"] == "2"


def test_tenants_page_lists_only_their_row_and_controls(as_ann: Settings) -> None:
    at = open_page("tenants", user=ANN)

    toggles = [toggle.key for toggle in at.toggle]
    assert list(table(at).user_id) == ["ann"]
    assert toggles == ["active-ann"]
    assert at.selectbox(key="manage-tenant").options == ["ann"]
    assert "Add a folder tenant" not in [e.label for e in at.expander]


def test_tenants_page_search_cannot_reach_others(as_ann: Settings) -> None:
    at = open_page("tenants", user=ANN)

    at.text_input(key="tenants-search").set_value("bob").run()

    assert "No tenant matches" in texts(at.info)[0]


def test_runs_page_shows_only_their_runs(as_ann: Settings) -> None:
    at = open_page("runs", user=ANN)

    at.selectbox(key="runs-range").set_value("all").run()

    assert set(table(at)["tenant"]) == {"ann"} and len(table(at)) == 5
    assert at.text_input(key="runs-tenant").disabled


def test_threads_page_shows_only_their_threads(as_ann: Settings) -> None:
    at = open_page("threads", user=ANN)

    assert list(table(at)["tenant"]) == ["ann", "ann", "ann"]


def test_settings_page_offers_only_their_tenant(as_ann: Settings) -> None:
    at = open_page("tenant_settings", user=ANN)

    assert at.selectbox(key="prefs-tenant").options == ["ann"]
    assert "prefs-search" not in [box.key for box in at.text_input]


def test_health_page_shows_only_their_fires(as_ann: Settings) -> None:
    at = open_page("health", user=ANN)

    figures = {metric.label: metric.value for metric in at.metric}
    assert set(table(at)["tenant"]) == {"ann"}
    assert figures["Scheduled entries"] == "1"


def test_times_are_in_their_timezone(as_ann: Settings) -> None:
    at = open_page("runs", user=ANN)

    assert texts(at.caption)[0] == "Times are shown in Europe/Berlin."
    assert "started (Europe/Berlin)" in table(at).columns
    assert all(value.endswith(("CET", "CEST")) for value in table(at).iloc[:, 4])
