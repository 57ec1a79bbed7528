"""Connect Gmail in a real browser: the button, Google's consent page, back connected.

Headless Debian Chromium driven by Playwright against `streamlit run` on loopback,
with the fake Google in this process. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import crons, crypto, db, tenants
from core.settings import load_settings
from core.viewer import Viewer
from tests.browser_support import (
    browser_page,
    free_port,
    streamlit_command,
    wait_for_url,
)
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_gmail import FakeGmail
from tests.oauth_support import google_env

ACCOUNT = "erin@example.com"


@pytest.fixture
def console(
    fake_gmail: FakeGmail, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """`streamlit run` on a free loopback port, pointed at the fake Google."""
    port = free_port()
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
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        streamlit_command(port),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_url(f"{base}/_stcore/health", timeout=60)
        yield base, env
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        db.dispose_engines()


def test_browser_connects_gmail_through_the_consent_page(
    fake_gmail: FakeGmail, console: tuple[str, dict[str, str]]
) -> None:
    base, env = console
    fake_gmail.oauth.consent.account = ACCOUNT

    with browser_page() as page:
        page.goto(f"{base}/connect")
        page.get_by_role("button", name="Connect Gmail").click()
        page.wait_for_url(f"{fake_gmail.url}/o/oauth2/auth*")
        page.click("#allow")
        page.wait_for_url(f"{base}/**")
        page.get_by_text(f"Gmail of {ACCOUNT} is connected").wait_for()
        landed = page.url

    settings = load_settings(
        DATABASE_URL=env["DATABASE_URL"], SECRET_KEY=env["SECRET_KEY"]
    )
    assert landed == f"{base}/connect"
    assert tenants.get_tenant(user_id=ACCOUNT, settings=settings).mail_source == (
        "gmail"
    )
    cron = crons.get_cron(user_id=ACCOUNT, viewer=Viewer.admin(), settings=settings)
    assert cron.status == "active"
