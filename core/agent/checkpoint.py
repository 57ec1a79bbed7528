"""The LangGraph checkpointer on the app's own database, one per process and URL.

SQLite: `SqliteSaver` on one connection shared by the scheduler's threads; the saver
serialises its own use with a lock, and WAL lets the console read meanwhile.
PostgreSQL: `PostgresSaver` over a psycopg pool, so threads do not queue on one
connection.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.engine import make_url

from core.db import SQLITE_BUSY_TIMEOUT_MS
from core.settings import Settings

log = logging.getLogger(__name__)

PG_POOL_MAX = 10

_savers: dict[str, BaseCheckpointSaver] = {}
_closers: dict[str, object] = {}
_lock = threading.Lock()


def get_checkpointer(settings: Settings) -> BaseCheckpointSaver:
    url = settings.database_url
    with _lock:
        if url not in _savers:
            _savers[url] = _open(url)
            log.info("checkpointer opened on the %s database", _savers[url].__class__)
        return _savers[url]


def _open(url: str) -> BaseCheckpointSaver:
    if url.startswith("sqlite"):
        return _open_sqlite(url)
    return _open_postgres(url)


def _open_sqlite(url: str) -> BaseCheckpointSaver:
    from langgraph.checkpoint.sqlite import SqliteSaver

    database = make_url(url).database or ":memory:"
    conn = sqlite3.connect(database, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Checkpoints are rebuilt by re-processing a message, so a power cut may lose
    # the last one; NORMAL keeps WAL commits off the fsync path.
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn)
    saver.setup()
    _closers[url] = conn
    return saver


def _open_postgres(url: str) -> BaseCheckpointSaver:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    conninfo = (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    pool = ConnectionPool(
        conninfo,
        max_size=PG_POOL_MAX,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        open=True,
    )
    saver = PostgresSaver(pool)  # type: ignore[arg-type]
    saver.setup()
    _closers[url] = pool
    return saver


def close_checkpointers() -> None:
    """Close every connection and pool (tests drop their databases afterwards)."""
    with _lock:
        for closer in _closers.values():
            closer.close()  # type: ignore[attr-defined]
        _closers.clear()
        _savers.clear()
