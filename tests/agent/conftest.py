"""Fixtures of the assistant's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.settings import Settings
from tests.agent.kit import restart


@pytest.fixture
def agent_settings(settings: Settings) -> Iterator[Settings]:
    """`settings` on both backends; the checkpointer closes before the drop."""
    yield settings
    restart()


@pytest.fixture
def agent_sqlite(sqlite_settings: Settings) -> Iterator[Settings]:
    yield sqlite_settings
    restart()
