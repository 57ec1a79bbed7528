"""`worker`: run the scheduler headless until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from core import scheduler, startup

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("worker", help="run the scheduler without the console")
    parser.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    settings = startup.prepare(startup.settings_or_exit())
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping the scheduler", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    running = scheduler.get_scheduler(settings).start()
    print(f"worker running as {running.role}; stop with Ctrl-C", flush=True)
    stop.wait()
    stopped = running.shutdown(timeout=STOP_TIMEOUT_SECONDS)
    return 0 if stopped else 1
