"""`make run` on a fresh machine's empty database, watched in a real browser.

The Makefile's own `run` target is started (its install step marked done: the
suite's environment is the one it would build), in a fresh data folder. It
loads the demo, starts the console with its scheduler, and within a minute or two
the demo tenants' first runs appear on the Overview, which is saved as a
screenshot for the README.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import db, demo
from core.settings import Settings, load_settings
from tests.browser_support import ARTIFACTS, browser_page, free_port, wait_for_url
from tests.conftest import PROJECT_ROOT
from tests.sched_helpers import run_rows

pytestmark = pytest.mark.browser
# The demo's crons fire at the start of each minute; two ticks at most.
FIRST_RUNS_SECONDS = 150
SCREENSHOT = ARTIFACTS / "make-run-overview.png"
# Runs per minute, run durations and threads per tenant (no errors to chart).
CHARTS = 3


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    """`make run` on a free port with an empty data folder; its URL and settings."""
    port = free_port()
    venv = Path(sys.prefix)
    data = tmp_path / "data"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATA_DIR": str(data),
    }
    log = (tmp_path / "make-run.log").open("wb")
    proc = subprocess.Popen(
        ["make", "-o", f"{venv}/.run-installed", "run", f"VENV={venv}", f"PORT={port}"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_url(f"http://127.0.0.1:{port}/_stcore/health", timeout=120)
        settings = load_settings(DATA_DIR=str(data))
        yield f"http://127.0.0.1:{port}", settings
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
        db.dispose_engines()


def _runs_by_tenant(settings: Settings) -> dict[str, int]:
    counts: dict[str, int] = {}
    for run in run_rows(settings):
        counts[run.user_id] = counts.get(run.user_id, 0) + 1
    return counts


def _metric(page: Any, label: str) -> str:
    tile = page.locator("[data-testid=stMetric]", has_text=label)
    return str(tile.locator("[data-testid=stMetricValue]").inner_text()).strip()


def test_make_run_shows_the_demo_tenants_being_processed(
    make_run: tuple[str, Settings],
) -> None:
    url, settings = make_run
    demo_ids = sorted(t.user_id for t in demo.demo_tenants(settings=settings))
    assert len(demo_ids) == 3

    with browser_page(viewport={"width": 1400, "height": 1400}) as page:
        page.goto(url)
        page.get_by_role("heading", name="Overview").wait_for()
        page.get_by_text("Demo loaded: 3 demo tenants").wait_for()

        deadline = time.monotonic() + FIRST_RUNS_SECONDS
        while set(_runs_by_tenant(settings)) != set(demo_ids):
            assert time.monotonic() < deadline, "no runs for every demo tenant"
            time.sleep(1)
        runs = sum(_runs_by_tenant(settings).values())

        # The Overview refreshes itself; wait until its tiles show those runs.
        deadline = time.monotonic() + 30
        while int(_metric(page, "Runs, last hour")) < runs:
            assert time.monotonic() < deadline, "the Overview never showed the runs"
            time.sleep(1)
        # Every chart drawn, threads included, before the picture is taken: a
        # refresh streams its elements in order, so wait for the last ones too.
        deadline = time.monotonic() + 30
        while page.locator(".vega-embed").count() < CHARTS:
            assert time.monotonic() < deadline, "the Overview never drew its charts"
            time.sleep(0.5)
        assert not page.get_by_text("No threads created").is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    rows = run_rows(settings)
    assert {(run.status, run.trigger) for run in rows} == {("ok", "schedule")}
    # Each tenant's first tick found the drip's three oldest messages.
    first = {run.user_id: run for run in reversed(rows)}
    assert {user: run.emails_fetched for user, run in first.items()} == dict.fromkeys(
        demo_ids, 3
    )
    assert all(run.threads_created >= 1 for run in first.values())
    assert SCREENSHOT.stat().st_size > 20_000
