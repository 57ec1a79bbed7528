"""Mail sources (Gmail, local folder) and the parser they share.

`source_for(tenant, settings=...)` picks the tenant's source. Every source answers
`fetch(cursor) -> FetchResult`; the caller records each message in
processed_messages and only then stores `next_cursor`, so a crash in between makes
the next tick see the same messages again, and the guard skips them.
"""

from __future__ import annotations

from typing import Any, Protocol

from core.errors import InvalidInput
from core.mail.record import FetchResult
from core.models import TenantInfo
from core.settings import Settings


class MailSource(Protocol):
    def fetch(self, cursor: dict[str, Any]) -> FetchResult: ...


def source_for(tenant: TenantInfo, *, settings: Settings) -> MailSource:
    """The mail source of `tenant`, by its `mail_source` column."""
    # Imported here so that reading the parser never loads the Google client.
    if tenant.mail_source == "gmail":
        from core.mail.gmail import GmailSource

        return GmailSource(tenant, settings=settings)
    if tenant.mail_source == "folder":
        from core.mail.folder import FolderSource

        return FolderSource(tenant, settings=settings)
    raise InvalidInput(f"Unknown mail source {tenant.mail_source!r}.")
