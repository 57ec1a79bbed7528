"""`python -m core worker`: the headless scheduler starts and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable

from core import db
from core.settings import Settings
from tests.conftest import PROJECT_ROOT
from tests.sched_helpers import add_cron


def test_worker_leads_and_stops_cleanly_on_sigterm(
    configure: Callable[..., Settings], tmp_path
) -> None:
    settings = configure(DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}")
    db.upgrade(settings)
    add_cron(settings, "olivia", "0 9 * * 1")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "core", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    first_line = worker.stdout.readline()

    worker.send_signal(signal.SIGTERM)
    code = worker.wait(timeout=15)

    assert first_line.strip() == "worker running as leader; stop with Ctrl-C"
    assert code == 0
    log = worker.stderr.read() if worker.stderr else ""
    assert "scheduler started with 1 cron(s)" in log
    assert "scheduler stopped (cleanly)" in log
