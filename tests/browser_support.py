"""What the browser tests share: a free loopback port, waiting for a URL, the
console's `streamlit run` command, and headless Debian Chromium under Playwright.

No browser is ever downloaded: Chromium comes from the system (`.ci/run` installs
Debian's package), at MAILCRON_CHROMIUM or /usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, PROJECT_ROOT

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_url(url: str, timeout: float) -> str:
    """The body of the first successful GET of `url`, retried until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def streamlit_command(port: int) -> list[str]:
    """The console as `make run` starts it, on `port`."""
    return [
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


def chromium_path() -> str:
    path = os.environ.get("MAILCRON_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        if IN_CI:
            pytest.fail(f"Chromium not found at {path}; .ci/run installs it")
        pytest.skip(f"no Chromium at {path}: set MAILCRON_CHROMIUM")
    return path


@contextmanager
def browser_page(**page_options: Any) -> Iterator[Any]:
    """A fresh page in headless Chromium, closed afterwards."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(**page_options)
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()
