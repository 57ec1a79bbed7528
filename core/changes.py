"""A process-local signal: "the crons changed", from the services to the scheduler.

The cron service sits above the scheduler and must not import it; the scheduler
subscribes here instead. Other processes see changes by polling the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

_listeners: list[Callable[[], None]] = []
_lock = threading.Lock()


def subscribe(listener: Callable[[], None]) -> None:
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def unsubscribe(listener: Callable[[], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def notify() -> None:
    """Tell every listener; a failing listener must not undo the caller's change."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener()
        except Exception:
            log.exception("a change listener failed; it will catch up by polling")
