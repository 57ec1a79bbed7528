"""What the tenant, cron and thread commands share: ready settings, one record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from core import db
from core.cli import print_json
from core.errors import MailcronError
from core.settings import Settings, get_settings

LABEL_WIDTH = 24


def ready_settings() -> Settings:
    """The settings, once the schema is current (else every query would fail)."""
    settings = get_settings()
    if not db.is_at_head(settings):
        raise MailcronError(
            "The database schema is not current; run: python -m core db upgrade"
        )
    return settings


def print_record(data: Mapping[str, Any], prefix: str = "") -> None:
    """One `label: value` line per field; a nested record gets its name as prefix."""
    for name, value in data.items():
        label = f"{prefix}{name.replace('_', ' ')}"
        if isinstance(value, Mapping):
            print_record(value, prefix=f"{label} ")
            continue
        shown = "-" if value is None or value == "" else value
        print(f"{label + ':':{LABEL_WIDTH}}{shown}")


def show(model: BaseModel, *, as_json: bool) -> None:
    """A record as JSON (`--json`) or as readable lines."""
    data = model.model_dump(mode="json")
    if as_json:
        print_json(data)
    else:
        print_record(data)
