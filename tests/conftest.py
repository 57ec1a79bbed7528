"""Shared fixtures: settings on a temporary database, PostgreSQL, personas, mail data.

Environment variables the suite reads (set by .ci/run):
- MAILCRON_TEST_PG_URL: a PostgreSQL server to create throwaway databases on.
- MAILCRON_MAIL_DATA: the shared mail folder (default ../shared/data/mail).
- MAILCRON_CHROMIUM: the Chromium binary for browser tests (default /usr/bin/chromium).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit import config as streamlit_config

from core import crypto, db, scheduler
from core.models import User
from core.settings import Settings, get_settings, reset_settings
from tests.fakes.fake_gmail import fake_gmail  # noqa: F401  (fixture)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    # pydantic-settings reads .env from the working directory; tests must not.
    os.chdir(PROJECT_ROOT / "tests")


# --- mail data -------------------------------------------------------------------


@pytest.fixture(scope="session")
def mail_data() -> Path:
    """The shared real mail; a test that needs it fails loudly when it is missing."""
    path = Path(
        os.environ.get("MAILCRON_MAIL_DATA", PROJECT_ROOT.parent / "shared/data/mail")
    )
    if not (path / "enron").is_dir():
        pytest.fail(f"shared mail data not found at {path}; set MAILCRON_MAIL_DATA")
    return path


@pytest.fixture(scope="session")
def enron_people(mail_data: Path) -> list[Path]:
    return sorted(p for p in (mail_data / "enron").iterdir() if p.is_dir())


# --- settings and databases ------------------------------------------------------

SETTINGS_ENV = (
    "DATA_DIR",
    "DATABASE_URL",
    "SECRET_KEY",
    "DEFAULT_TIMEZONE",
    "GOOGLE_CLIENT_SECRETS_FILE",
    "LLM_MODEL",
    "MIN_INTERVAL_SECONDS",
)


@pytest.fixture
def configure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., Settings]]:
    """Point the settings at a temporary data dir; extra keyword args become env."""

    def apply(load: bool = True, **env: str) -> Settings | None:
        for name in SETTINGS_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
        for name, value in env.items():
            monkeypatch.setenv(name.upper(), value)
        reset_settings()
        return get_settings() if load else None

    yield apply
    # The console starts the process scheduler; stop it before its database goes.
    scheduler.shutdown_all()
    reset_settings()
    db.dispose_engines()


def _pg_server_url() -> str | None:
    url = os.environ.get("MAILCRON_TEST_PG_URL")
    if not url:
        if IN_CI:
            pytest.fail("MAILCRON_TEST_PG_URL is not set in CI; .ci/run must set it")
        return None
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    server = _pg_server_url()
    if server is None:
        pytest.skip("no PostgreSQL server: set MAILCRON_TEST_PG_URL (.ci/run does)")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"mailcron_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as err:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL at MAILCRON_TEST_PG_URL is not reachable: {err}")
    url = sa.engine.make_url(server).set(database=name)
    yield url.render_as_string(hide_password=False)
    db.dispose_engines()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings(configure: Callable[..., Settings], backend_url: str) -> Settings:
    """Settings on a migrated database, on each backend."""
    current = configure(DATABASE_URL=backend_url, SECRET_KEY=crypto.new_key())
    db.upgrade(current)
    return current


@pytest.fixture
def sqlite_settings(configure: Callable[..., Settings], tmp_path: Path) -> Settings:
    """Settings on a migrated SQLite file, for tests that need only one backend."""
    url = f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}"
    current = configure(DATABASE_URL=url, SECRET_KEY=crypto.new_key())
    db.upgrade(current)
    return current


# --- personas ----------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    user_id: str
    email: str
    name: str


PERSONAS = {
    "owner": Persona("olivia", "olivia@acme.example", "Olivia Owner"),
    "teammate": Persona("theo", "theo@acme.example", "Theo Teammate"),
    "outsider": Persona("oscar", "oscar@elsewhere.example", "Oscar Outsider"),
}


@pytest.fixture
def personas(sqlite_settings: Settings) -> dict[str, Persona]:
    """Three tenants on a folder source: an owner, a teammate, an outsider."""
    with db.session_scope(sqlite_settings) as session:
        for persona in PERSONAS.values():
            session.add(
                User(
                    user_id=persona.user_id,
                    email=persona.email,
                    display_name=persona.name,
                    mail_source="folder",
                )
            )
    return PERSONAS


@pytest.fixture(autouse=True)
def console_bind() -> Iterator[Callable[[str | None], None]]:
    """The console's `server.address`, loopback as `make run` starts it; settable.

    AppTest does not set it, and without sign-in the console refuses to show data
    on anything but loopback.
    """
    original = streamlit_config.get_option("server.address")

    def apply(address: str | None) -> None:
        streamlit_config.set_option("server.address", address)

    apply("127.0.0.1")
    yield apply
    streamlit_config.set_option("server.address", original)


@pytest.fixture(autouse=True)
def logging_as_found() -> Iterator[None]:
    """Undo what an in-process entry point's configure_logging() did to the root.

    Its handler writes to the stderr pytest captured for that one test, which is
    closed afterwards, and its INFO level would change what later tests capture.
    """
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
