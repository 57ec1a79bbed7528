"""The console starts, says how to add a tenant, and shows start-up checks."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.settings import Settings
from tests.browser_support import free_port, streamlit_command, wait_for_url
from tests.conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "dashboard" / "app.py")


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_first_page_says_how_to_add_a_tenant(sqlite_settings: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()

    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "There are no tenants yet" in at.info[0].value
    assert "create-user-cron" in _markdown(at)
    assert "Connect Gmail" in _markdown(at)


def test_health_page_lists_the_missing_google_client(sqlite_settings: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()

    at.switch_page(str(PROJECT_ROOT / "pages" / "health.py")).run()

    assert not at.exception
    assert at.title[0].value == "Scheduler & health"
    assert "No Google OAuth client file" in at.warning[0].value
    assert "GOOGLE_CLIENT_SECRETS_FILE" in _markdown(at) + "".join(
        c.value for c in at.caption
    )


def test_bad_setting_shows_one_line_and_no_traceback(
    configure: Callable[..., Settings],
) -> None:
    configure(load=False, DEFAULT_TIMEZONE="Nowhere/Land")

    at = AppTest.from_file(APP, default_timeout=30).run()

    assert not at.exception
    assert "DEFAULT_TIMEZONE" in at.error[0].value
    assert len(at.title) == 0


def test_streamlit_serves_the_console_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        streamlit_command(port),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = wait_for_url(f"http://127.0.0.1:{port}/_stcore/health", timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    assert body == "ok"
