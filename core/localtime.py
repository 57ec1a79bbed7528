"""Times as a viewer reads them: in their timezone, with the zone named.

Stored times are aware UTC. A tenant viewer sees their own preference timezone;
an admin sees DEFAULT_TIMEZONE.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pandas as pd

from core import tenants
from core.errors import UnknownTenant
from core.settings import Settings
from core.timeutil import check_timezone
from core.viewer import Viewer


def viewer_zone(*, viewer: Viewer, settings: Settings) -> str:
    """The IANA name of the zone the viewer's times are shown in."""
    if viewer.is_admin or viewer.user_id is None:
        return settings.default_timezone
    try:
        tenant = tenants.get_tenant(
            user_id=viewer.user_id, viewer=viewer, settings=settings
        )
    except UnknownTenant:
        return settings.default_timezone
    zone = (tenant.prefs or {}).get("timezone")
    return zone if isinstance(zone, str) and _known(zone) else settings.default_timezone


def _known(zone: str) -> bool:
    try:
        check_timezone(zone)
    except ValueError:
        return False
    return True


def show(value: datetime | None, zone: str) -> str:
    """`2026-12-03 21:05:09 CET`, or an em dash for no time."""
    if value is None or pd.isna(value):
        return "—"
    local = value.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def localise(frame: pd.DataFrame, columns: list[str], zone: str) -> pd.DataFrame:
    """A copy with the given UTC time columns converted to `zone` (still datetimes)."""
    local = frame.copy()
    for column in columns:
        if column in local:
            local[column] = pd.to_datetime(local[column], utc=True).dt.tz_convert(zone)
    return local
