"""The audit trail: who changed what, when, with the state before and after."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from core.db import session_scope
from core.models import AuditEvent
from core.settings import Settings

log = logging.getLogger(__name__)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    user_id: str | None,
    cron_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Add one audit event to `session`; it commits with the change it describes."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            user_id=user_id,
            cron_id=cron_id,
            before=_plain(before),
            after=_plain(after),
        )
    )
    log.debug("audit %s by %s for tenant %s", action, actor, user_id)


def record_done(
    *,
    settings: Settings,
    actor: str,
    action: str,
    user_id: str,
    after: dict[str, Any],
    cron_id: str | None = None,
) -> None:
    """One event, in its own transaction, for an action that took effect already
    (a send, a run claimed, a grant stored): there is no state before to record."""
    with session_scope(settings) as session:
        record(
            session,
            actor=actor,
            action=action,
            user_id=user_id,
            cron_id=cron_id,
            before=None,
            after=after,
        )


def _plain(state: dict[str, Any] | None) -> dict[str, Any] | None:
    # JSON columns take only plain values; times and ids are kept as text.
    if state is None:
        return None
    return {
        key: value if isinstance(value, str | int | float | bool | None) else str(value)
        for key, value in state.items()
    }
