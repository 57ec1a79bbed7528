"""Time helpers: every stored time is timezone-aware UTC."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """`timestamptz` on PostgreSQL; on SQLite, naive UTC text read back as aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; mailcron stores aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def check_timezone(name: str) -> str:
    """The name itself when it is a known IANA timezone; ValueError otherwise."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}; use an IANA name") from None
    return name


# A str field that must name a known IANA timezone.
Timezone = Annotated[str, AfterValidator(check_timezone)]
