"""The work of one tick for one tenant: fetch new mail, run the assistant, move on.

Called by core.jobs after the tick is claimed. The cursor is stored only after every
fetched message is recorded in `processed_messages`; a run cut short (time limit,
crash) keeps the old cursor, and the next tick skips what was already done.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC
from typing import Any

from sqlalchemy.exc import IntegrityError

from core.agent.service import process_email
from core.db import session_scope
from core.errors import UnknownTenant
from core.jobs import TickOutcome
from core.mail import source_for
from core.mail.record import EmailRecord, ParseFailure
from core.models import ProcessedMessage, TenantInfo, User
from core.settings import Settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)


def run_tenant(
    *, tenant: TenantInfo, deadline: float, settings: Settings
) -> TickOutcome:
    """Process the tenant's new mail until done or until `deadline` (monotonic)."""
    cursor = _current_cursor(tenant.user_id, settings)
    fetched = source_for(tenant, settings=settings).fetch(cursor)
    _record_failures(tenant.user_id, fetched.failures, settings)

    created = 0
    for done, email in enumerate(sorted(fetched.messages, key=_arrival)):
        if time.monotonic() >= deadline:
            log.warning(
                "tenant %s hit the run time limit with %d emails left; "
                "the next tick continues",
                tenant.user_id,
                len(fetched.messages) - done,
            )
            return TickOutcome(len(fetched.messages), created, timed_out=True)
        outcome = process_email(tenant=tenant, email=email, settings=settings)
        created += int(outcome.created)

    _store_cursor(tenant.user_id, fetched.next_cursor, settings)
    return TickOutcome(len(fetched.messages), created, timed_out=False)


def _arrival(email: EmailRecord) -> tuple[Any, str]:
    # Oldest first, so a reply never reaches the assistant before its original.
    return email.date.astimezone(UTC), email.id


def _current_cursor(user_id: str, settings: Settings) -> dict[str, Any]:
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        if user is None:
            raise UnknownTenant(user_id)
        return dict(user.cursor or {})


def _store_cursor(user_id: str, cursor: dict[str, Any], settings: Settings) -> None:
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        if user is None:
            raise UnknownTenant(user_id)
        if user.cursor != cursor:
            user.cursor = cursor
            user.updated_at = utcnow()
            session.add(user)


def _record_failures(
    owner: str, failures: list[ParseFailure], settings: Settings
) -> None:
    """Unreadable messages are recorded once with their reason and never retried."""
    for failure in failures:
        log.error(
            "message %s of tenant %s cannot be parsed and is skipped: %s",
            failure.id,
            owner,
            failure.reason,
        )
        try:
            with session_scope(settings) as session:
                if session.get(ProcessedMessage, (owner, failure.id)) is None:
                    session.add(
                        ProcessedMessage(
                            owner=owner,
                            message_id=failure.id,
                            outcome="unparseable",
                            error=failure.reason[:300],
                        )
                    )
        except IntegrityError:
            log.debug("failure %s of %s recorded concurrently", failure.id, owner)
