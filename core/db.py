"""Engine, sessions and schema upgrades, for SQLite files and PostgreSQL alike."""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed number works; it only has to be the same in every mailcron process.
PG_MIGRATION_LOCK = 7_344_212
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the console read while a run writes; the busy timeout makes writers
    # queue instead of failing with "database is locked".
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=10,
        max_overflow=20,
    )
    sa.event.listen(engine, "connect", _on_sqlite_connect)
    return engine


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings | None = None) -> Engine:
    """One engine (and pool) per database URL for the whole process."""
    url = (settings or get_settings()).database_url
    with _engines_lock:
        if url not in _engines:
            _engines[url] = create_db_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(get_engine(settings), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def _migration_lock(engine: Engine, url: str) -> Iterator[None]:
    """Serialise upgrades: an advisory lock on PostgreSQL, a file lock on SQLite."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            lock = {"k": PG_MIGRATION_LOCK}
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), lock)
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), lock)
                conn.commit()
        return

    path = _sqlite_path(url)
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".migrate.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(settings: Settings | None = None, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to call from several processes at once."""
    settings = settings or get_settings()
    engine = get_engine(settings)
    with _migration_lock(engine, settings.database_url):
        command.upgrade(alembic_config(settings.database_url), revision)
    log.info("database schema is at %s", revision)


def downgrade(settings: Settings | None = None, revision: str = "base") -> None:
    settings = settings or get_settings()
    engine = get_engine(settings)
    with _migration_lock(engine, settings.database_url):
        command.downgrade(alembic_config(settings.database_url), revision)


def current_revision(settings: Settings | None = None) -> str | None:
    with get_engine(settings).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def is_at_head(settings: Settings | None = None) -> bool:
    return current_revision(settings) == head_revision()
