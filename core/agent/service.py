"""The assistant's front door: process one email, read threads, review drafts.

Exactly once per (owner, message): the `processed_messages` row is written last, in
the same transaction as the `threads` row. A crash before it means the message is
processed again; the graph state drops the repeated email and the new triage
replaces the draft, so a re-run leaves one thread and one draft.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from core.agent.review import acknowledge, approve_draft, reject_draft
from core.agent.runtime import graph_for, run_config, thread_id_for
from core.agent.threads import (
    ThreadDetail,
    ThreadPublic,
    UnknownThread,
    get_thread,
    list_threads,
    prune_threads,
)
from core.db import session_scope
from core.mail.record import EmailRecord
from core.models import ProcessedMessage, TenantInfo, Thread
from core.settings import Settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)

__all__ = [
    "Outcome",
    "ThreadDetail",
    "ThreadPublic",
    "UnknownThread",
    "acknowledge",
    "approve_draft",
    "get_thread",
    "list_threads",
    "process_email",
    "prune_threads",
    "reject_draft",
]


class Outcome(BaseModel):
    thread_id: str
    created: bool
    triage: str | None
    skipped: bool = False


def process_email(
    *, tenant: TenantInfo, email: EmailRecord, settings: Settings, engine: Any = None
) -> Outcome:
    """Run the assistant on one new email of `tenant`; a repeat is skipped."""
    owner = tenant.user_id
    thread_id = thread_id_for(owner, email.thread_key)
    if _already_processed(settings, owner, email.id):
        log.debug("message %s of %s already processed; skipped", email.id, owner)
        return Outcome(thread_id=thread_id, created=False, triage=None, skipped=True)

    config = run_config(tenant, thread_id, engine=engine)
    # "exit" writes one checkpoint per run instead of one per step; a run cut off
    # half-way is simply run again, which the idempotent state allows.
    values = graph_for(settings).invoke(
        {"emails": [email.as_dict()]}, config=config, durability="exit"
    )

    try:
        created = _record(settings, owner, email, thread_id, values)
    except IntegrityError:
        # Another worker recorded the same message meanwhile: theirs stands.
        log.warning("message %s of %s recorded concurrently; skipped", email.id, owner)
        return Outcome(thread_id=thread_id, created=False, triage=None, skipped=True)

    triage = None if email.from_self else values.get("triage")
    return Outcome(thread_id=thread_id, created=created, triage=triage)


def _already_processed(settings: Settings, owner: str, message_id: str) -> bool:
    with session_scope(settings) as session:
        return session.get(ProcessedMessage, (owner, message_id)) is not None


def _record(
    settings: Settings,
    owner: str,
    email: EmailRecord,
    thread_id: str,
    values: dict[str, Any],
) -> bool:
    """Upsert the threads row and mark the message done, in one transaction."""
    with session_scope(settings) as session:
        row = session.get(Thread, thread_id)
        created = row is None
        if row is None:
            row = Thread(
                thread_id=thread_id, owner=owner, source_thread_id=email.thread_key
            )
        _apply(row, values)
        session.add(row)
        session.flush()
        session.add(
            ProcessedMessage(
                owner=owner,
                message_id=email.id,
                thread_id=thread_id,
                outcome=values.get("status", "done"),
            )
        )
    return created


def _apply(row: Thread, values: dict[str, Any]) -> None:
    emails = values["emails"]
    received = [email for email in emails if not email.get("from_self")]
    last = received[-1] if received else emails[-1]
    row.subject = emails[0]["subject"]
    row.sender = last["from_address"]
    row.status = values.get("status", "new")
    row.draft = values.get("draft")
    # A message from the tenant closes the thread but keeps the last triage.
    if not emails[-1].get("from_self"):
        row.triage = values.get("triage")
        row.reason = f"{values.get('rule')}: {values.get('reason')}"
    row.updated_at = utcnow()
