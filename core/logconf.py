"""Logging set-up, called once by each entry point (CLI, console, worker, API)."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def configure_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    if not any(getattr(h, "_mailcron", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._mailcron = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # Client libraries log request URLs with query strings at debug; keep them quiet.
    for noisy in ("googleapiclient", "urllib3", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
