"""The console in a real browser: headless Debian Chromium against `streamlit run`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import crons
from core.settings import Settings
from core.viewer import Viewer
from tests.browser_support import (
    ARTIFACTS,
    browser_page,
    free_port,
    streamlit_command,
    wait_for_url,
)
from tests.conftest import PROJECT_ROOT
from tests.console.pages_kit import folder_tenant
from tests.sched_helpers import run_rows, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def console(sqlite_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on a free loopback port; yields its URL."""
    folder_tenant(sqlite_settings, "ann", tmp_path / "ann-mail", mails=1)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATA_DIR": str(sqlite_settings.data_dir),
        "DATABASE_URL": sqlite_settings.database_url,
        "SECRET_KEY": sqlite_settings.secret_key,
    }
    proc = subprocess.Popen(
        streamlit_command(port),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_url(f"http://127.0.0.1:{port}/_stcore/health", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def page() -> Iterator[Any]:
    with browser_page(viewport={"width": 1400, "height": 1000}) as opened:
        yield opened


def _cron_status(settings: Settings) -> str:
    return crons.get_cron(
        user_id="ann", viewer=Viewer.admin(), settings=settings
    ).status


def test_pause_resume_and_run_now_in_the_browser(
    console: str, page: Any, sqlite_settings: Settings
) -> None:
    page.goto(f"{console}/tenants")
    page.get_by_role("heading", name="Tenants & crons").wait_for()
    toggle = page.locator(".st-key-active-ann").get_by_role("switch")

    toggle.click(force=True)
    wait_until(lambda: _cron_status(sqlite_settings) == "paused")
    page.get_by_text("The cron of ann is paused.").first.wait_for()
    toggle.click(force=True)
    wait_until(lambda: _cron_status(sqlite_settings) == "active")
    page.locator(".st-key-run-ann").get_by_role("button").click()
    page.get_by_text("of ann finished: ok").first.wait_for()

    [run] = run_rows(sqlite_settings, "ann")
    page.goto(f"{console}/runs")
    page.get_by_role("heading", name="Runs").wait_for()
    cell = page.locator(
        "[data-testid=stDataFrame] td[role=gridcell]", has_text="manual"
    )
    cell.first.wait_for(state="attached")
    row = cell.first.locator("xpath=..").text_content() or ""
    assert (run.status, run.trigger, run.emails_fetched) == ("ok", "manual", 1)
    assert row.startswith(f"{run.id}annmanualok")

    page.goto(console)  # the Overview is the default page
    page.get_by_text("Runs per minute, by status").wait_for()
    page.locator(".vega-embed").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-overview.png"), full_page=True)
    assert (ARTIFACTS / "console-overview.png").stat().st_size > 10_000
