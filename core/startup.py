"""What every long-running entry point does first: settings, logging, schema."""

from __future__ import annotations

import sys

from core import db
from core.errors import ConfigError
from core.logconf import configure_logging
from core.settings import Settings, get_settings


def settings_or_exit() -> Settings:
    """The settings, or one line on stderr and exit status 2 when a value is bad."""
    try:
        return get_settings()
    except ConfigError as err:
        sys.stderr.write(f"mailcron: bad setting {err}\n")
        raise SystemExit(2) from None


def prepare(settings: Settings | None = None) -> Settings:
    """Configure logging and bring the schema to head (safe in several processes)."""
    configure_logging()
    settings = settings or settings_or_exit()
    db.upgrade(settings)
    return settings
