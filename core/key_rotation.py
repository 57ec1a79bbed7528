"""Re-encrypt every stored secret with the newest key in SECRET_KEY.

A key is rotated in three steps: put the new key first in SECRET_KEY (keeping the old
one after it), run `python -m core rotate-key`, then drop the old key. Nobody has to
reconnect Gmail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from core import crypto, db
from core.models import GmailCredential, OAuthState
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rotation:
    rotated: list[str]
    # Tenants whose token no configured key opens: they must reconnect Gmail.
    unreadable: list[str] = field(default_factory=list)
    pending_connects: int = 0


def rotate_key(*, settings: Settings) -> Rotation:
    """Re-encrypt tokens and pending connect verifiers; report who could not be read."""
    rotated, unreadable = _reencrypt(
        GmailCredential, "token_encrypted", "user_id", settings
    )
    pending, _ = _reencrypt(OAuthState, "code_verifier_encrypted", "state", settings)
    for user_id in unreadable:
        log.error(
            "the Gmail token of %s opens with no key in SECRET_KEY; they must "
            "reconnect",
            user_id,
        )
    log.info("re-encrypted %d Gmail tokens with the newest key", len(rotated))
    return Rotation(
        rotated=rotated, unreadable=unreadable, pending_connects=len(pending)
    )


def _reencrypt(
    table: Any, column: str, key: str, settings: Settings
) -> tuple[list[str], list[str]]:
    """Every row's `column` under the newest key: (keys done, keys no key opens)."""
    done: list[str] = []
    unreadable: list[str] = []
    with db.session_scope(settings) as session:
        for row in session.exec(select(table)):
            fresh = crypto.reencrypt(getattr(row, column), settings)
            if fresh is None:
                unreadable.append(getattr(row, key))
                continue
            setattr(row, column, fresh)
            session.add(row)
            done.append(getattr(row, key))
    return done, unreadable
