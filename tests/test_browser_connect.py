"""Connect Gmail in a real browser: the button, Google's consent page, back connected.

Headless Debian Chromium driven by Playwright against `streamlit run` on loopback,
with the fake Google in this process. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import crons, crypto, db, tenants
from core.settings import load_settings
from core.viewer import Viewer
from tests.conftest import IN_CI, PROJECT_ROOT
from tests.fakes.fake_gmail import FakeGmail
from tests.oauth_support import google_env

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
ACCOUNT = "erin@example.com"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    path = os.environ.get("MAILCRON_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        if IN_CI:
            pytest.fail(f"Chromium not found at {path}; .ci/run installs it")
        pytest.skip(f"no Chromium at {path}: set MAILCRON_CHROMIUM")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def console(
    fake_gmail: FakeGmail, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """`streamlit run` on a free loopback port, pointed at the fake Google."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}",
        "SECRET_KEY": crypto.new_key(),
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
        **google_env(fake_gmail, tmp_path, redirect_uri=f"{base}/"),
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        APP,
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(f"{base}/_stcore/health", timeout=60)
        yield base, env
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        db.dispose_engines()


def test_browser_connects_gmail_through_the_consent_page(
    fake_gmail: FakeGmail, console: tuple[str, dict[str, str]]
) -> None:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    base, env = console
    fake_gmail.oauth.consent.account = ACCOUNT

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(f"{base}/connect", timeout=30_000)
            page.get_by_role("button", name="Connect Gmail").click(timeout=30_000)
            page.wait_for_url(f"{fake_gmail.url}/o/oauth2/auth*", timeout=30_000)
            page.click("#allow")
            page.wait_for_url(f"{base}/**", timeout=30_000)
            page.get_by_text(f"Gmail of {ACCOUNT} is connected").wait_for(
                timeout=30_000
            )
            landed = page.url
        finally:
            browser.close()

    settings = load_settings(
        DATABASE_URL=env["DATABASE_URL"], SECRET_KEY=env["SECRET_KEY"]
    )
    assert landed == f"{base}/connect"
    assert tenants.get_tenant(user_id=ACCOUNT, settings=settings).mail_source == (
        "gmail"
    )
    cron = crons.get_cron(user_id=ACCOUNT, viewer=Viewer.admin(), settings=settings)
    assert cron.status == "active"
