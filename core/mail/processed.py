"""Which message ids an owner has already processed: the source's view of the guard."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select

from core import db
from core.models import ProcessedMessage
from core.settings import Settings

# Keeps each IN (...) list well under every backend's parameter limit.
_CHUNK = 500


def processed_ids(*, owner: str, ids: Iterable[str], settings: Settings) -> set[str]:
    """The subset of `ids` recorded in processed_messages for `owner`."""
    wanted = list(dict.fromkeys(ids))
    found: set[str] = set()
    with db.session_scope(settings) as session:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = select(ProcessedMessage.message_id).where(
                ProcessedMessage.owner == owner,
                col(ProcessedMessage.message_id).in_(chunk),
            )
            found.update(session.exec(query).all())
    return found
