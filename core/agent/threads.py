"""The read side of threads, always through a viewer, and their pruning.

A tenant asking for a thread that is not theirs gets the same not-found as for a
thread that does not exist: the answer must not reveal that it exists.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel
from sqlmodel import Session, col, select

from core.agent.checkpoint import get_checkpointer
from core.agent.runtime import graph_for
from core.db import session_scope
from core.errors import InvalidInput
from core.models import Thread
from core.settings import Settings, get_settings
from core.timeutil import utcnow
from core.viewer import Viewer

log = logging.getLogger(__name__)

# "sending" is the short claim of an approval between the click and the reply.
OPEN_STATUSES = ("awaiting_review", "awaiting_ack", "sending")
CLOSED_STATUSES = ("ignored", "acknowledged", "answered", "rejected", "failed")
THREAD_STATUSES = OPEN_STATUSES + CLOSED_STATUSES
MAX_LIMIT = 500


class UnknownThread(InvalidInput):
    kind = "unknown_thread"

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        super().__init__(f"No thread {thread_id!r} visible to you.")


class ThreadPublic(BaseModel):
    thread_id: str
    owner: str | None
    source_thread_id: str
    subject: str
    sender: str
    triage: str | None
    reason: str | None
    status: str
    draft: str | None
    created_at: datetime
    updated_at: datetime


class ThreadDetail(ThreadPublic):
    rule: str | None = None
    draft_to: list[str] = []
    messages: list[dict[str, Any]] = []


def public(row: Thread) -> ThreadPublic:
    return ThreadPublic.model_validate(row.model_dump())


def visible_row(session: Session, viewer: Viewer, thread_id: str) -> Thread:
    query = select(Thread).where(Thread.thread_id == thread_id)
    if not viewer.is_admin:
        query = query.where(Thread.owner == viewer.user_id)
    row = session.exec(query).first()
    if row is None or not viewer.may_see(row.owner):
        raise UnknownThread(thread_id)
    return row


def list_threads(
    *,
    viewer: Viewer,
    user_id: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
    settings: Settings | None = None,
) -> list[ThreadPublic]:
    """Newest first. A tenant's `user_id` filter cannot widen what they see."""
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"Offset must be 0 or more and limit 1 to {MAX_LIMIT}.")
    if status is not None and status not in THREAD_STATUSES:
        choices = ", ".join(THREAD_STATUSES)
        raise InvalidInput(f"Unknown thread status {status!r}; use one of {choices}.")
    query = select(Thread)
    if not viewer.is_admin:
        query = query.where(Thread.owner == viewer.user_id)
    if user_id is not None:
        query = query.where(Thread.owner == user_id)
    if status is not None:
        query = query.where(Thread.status == status)
    query = query.order_by(col(Thread.updated_at).desc(), col(Thread.thread_id))

    with session_scope(settings or get_settings()) as session:
        rows = session.exec(query.offset(offset).limit(limit)).all()
        return [public(row) for row in rows if viewer.may_see(row.owner)]


def get_thread(
    *, viewer: Viewer, thread_id: str, settings: Settings | None = None
) -> ThreadDetail:
    """The thread row plus its conversation from the checkpoint."""
    settings = settings or get_settings()
    with session_scope(settings) as session:
        row = public(visible_row(session, viewer, thread_id))

    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    values = graph_for(settings).get_state(config).values
    return ThreadDetail(
        **row.model_dump(),
        rule=values.get("rule"),
        draft_to=values.get("draft_to") or [],
        messages=values.get("emails") or [],
    )


def prune_threads(*, settings: Settings, now: datetime | None = None) -> int:
    """Delete closed threads, and their checkpoints, untouched for the retention."""
    cutoff = (now or utcnow()) - timedelta(days=settings.thread_retention_days)
    # Rows first, then only their checkpoints: a thread reopened meanwhile by a
    # new message keeps both.
    with session_scope(settings) as session:
        result = session.execute(
            sa.delete(Thread)
            .where(col(Thread.status).in_(CLOSED_STATUSES))
            .where(col(Thread.updated_at) < cutoff)
            .returning(col(Thread.thread_id))
        )
        ids = [thread_id for (thread_id,) in result]

    saver = get_checkpointer(settings)
    for thread_id in ids:
        saver.delete_thread(thread_id)
    log.info("pruned %d closed threads older than %s", len(ids), cutoff.date())
    return len(ids)
