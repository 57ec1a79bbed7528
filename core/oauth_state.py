"""Pending Gmail connects, kept in `oauth_states`: single use, ten minutes long.

Google's answer arrives as a new page load (often in a new process), so the state and
the PKCE code verifier cannot live in memory or in a browser session: they wait here,
the verifier encrypted like every other secret.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import col

from core import crypto
from core.db import session_scope
from core.errors import InvalidInput
from core.models import OAuthState
from core.settings import Settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
RESTART = "click Connect Gmail to start again."


@dataclass(frozen=True)
class PendingConnect:
    """A claimed state: which tenant the flow was started for, and its verifier."""

    state: str
    user_id: str | None
    code_verifier: str


def new_state() -> str:
    return secrets.token_urlsafe(32)


def save_state(
    *, state: str, code_verifier: str, user_id: str | None, settings: Settings
) -> None:
    now = utcnow()
    with session_scope(settings) as session:
        session.add(
            OAuthState(
                state=state,
                code_verifier_encrypted=crypto.encrypt(code_verifier, settings),
                user_id=user_id,
                created_at=now,
                expires_at=now + STATE_LIFETIME,
            )
        )
        # Abandoned connects would otherwise pile up; an hour's grace keeps the
        # "expired" answer (rather than "unknown") for a late return.
        session.execute(
            sa.delete(OAuthState).where(
                col(OAuthState.expires_at) < now - timedelta(hours=1)
            )
        )


def claim_state(
    *, state: str, settings: Settings, allowed_user: str | None = None
) -> PendingConnect:
    """Mark the state used (exactly once) and hand back what was saved with it.

    `allowed_user`, when given, is the only tenant this caller may finish a connect
    for; a connect of a new mailbox (no tenant yet) is then refused too.
    """
    now = utcnow()
    with session_scope(settings) as session:
        row = session.get(OAuthState, state) if state else None
        _check_usable(row, now)
        assert row is not None  # _check_usable refused a missing row
        if allowed_user is not None and row.user_id != allowed_user:
            raise InvalidInput(
                "This Gmail connect was started for another tenant; "
                "start it again from your own row."
            )
        # The conditional update is the claim: two returns racing cannot both win.
        result = session.execute(
            sa.update(OAuthState)
            .where(col(OAuthState.state) == state, col(OAuthState.used_at).is_(None))
            .values(used_at=now)
        )
        if cast("sa.CursorResult[Any]", result).rowcount != 1:
            raise InvalidInput(f"This Google sign-in was already used; {RESTART}")
        ciphertext, user_id = row.code_verifier_encrypted, row.user_id

    verifier = crypto.decrypt(ciphertext, settings)
    if verifier is None:
        raise InvalidInput(f"This Google sign-in cannot be read any more; {RESTART}")
    return PendingConnect(state=state, user_id=user_id, code_verifier=verifier)


def _check_usable(row: OAuthState | None, now: datetime) -> None:
    if row is None:
        raise InvalidInput(f"This Google sign-in is unknown to mailcron; {RESTART}")
    if row.used_at is not None:
        raise InvalidInput(f"This Google sign-in was already used; {RESTART}")
    if row.expires_at <= now:
        raise InvalidInput(
            f"This Google sign-in expired (it lasts ten minutes); {RESTART}"
        )
