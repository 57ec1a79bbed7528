"""A scheduler in its own process, for the "second process" tests.

    python -m tests.sched_proc SLEEP_SECONDS

Settings come from the environment. Prints "ready <role>" once started and runs
until killed or SIGTERM; each tick's work sleeps SLEEP_SECONDS.
"""

from __future__ import annotations

import signal
import sys
import threading

from core import logconf, scheduler
from core.settings import get_settings
from tests.sched_helpers import sleeping


def main() -> None:
    logconf.configure_logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    running = scheduler.get_scheduler(
        get_settings(), work=sleeping(float(sys.argv[1]))
    ).start()
    print(f"ready {running.role}", flush=True)
    stop.wait()
    running.shutdown(timeout=5)


if __name__ == "__main__":
    main()
