"""The console starts one scheduler per process, however often its script reruns."""

from __future__ import annotations

import threading

from streamlit.testing.v1 import AppTest

from core import crons, scheduler
from core.settings import Settings
from core.viewer import Viewer
from tests.sched_helpers import add_cron
from tests.test_console_start import APP


def test_fifteen_reruns_in_three_sessions_leave_one_scheduler(
    sqlite_settings: Settings,
) -> None:
    for name in ("olivia", "theo", "oscar"):
        add_cron(sqlite_settings, name, "0 9 * * 1")

    for _session in range(3):
        at = AppTest.from_file(APP, default_timeout=30)
        for _rerun in range(5):
            at.run()
            assert not at.exception

    running = scheduler.running_schedulers()
    heartbeats = [
        t for t in threading.enumerate() if t.name == scheduler.HEARTBEAT_THREAD
    ]
    assert len(running) == 1 and len(heartbeats) == 1
    every_cron = crons.list_crons(viewer=Viewer.admin(), settings=sqlite_settings)
    assert running[0].job_ids() == sorted(c.cron_id for c in every_cron)
    assert running[0].role == "leader"
