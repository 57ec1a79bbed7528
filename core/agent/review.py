"""Human review: approve (or edit) a draft and send it, reject it, acknowledge.

Each action first claims the thread with a conditional UPDATE of its status that
must touch exactly one row, so a repeated or concurrent approval sends nothing
twice. The reply is sent before the graph is resumed: if sending fails the claim is
released and the draft still waits, intact, for another try.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from langgraph.types import Command
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from core import audit
from core.agent.runtime import graph_for, run_config
from core.agent.threads import ThreadPublic, get_thread, visible_row
from core.db import session_scope
from core.errors import Conflict, InvalidInput, UnknownTenant
from core.mail.outbox import write_reply
from core.mail.record import OutgoingReply
from core.models import ProcessedMessage, TenantInfo, Thread, User
from core.settings import Settings, get_settings
from core.timeutil import utcnow
from core.viewer import Viewer

log = logging.getLogger(__name__)


def approve_draft(
    *,
    viewer: Viewer,
    thread_id: str,
    text: str | None = None,
    settings: Settings | None = None,
) -> ThreadPublic:
    """Send the draft (or `text`, an edit of it) as a reply, exactly once."""
    settings = settings or get_settings()
    if text is not None and not text.strip():
        raise InvalidInput("An edited reply cannot be empty; nothing was sent.")
    owner = _claim(settings, viewer, thread_id, "awaiting_review", "sending")
    try:
        tenant = load_tenant(settings, owner)
        config = run_config(tenant, thread_id)
        values = graph_for(settings).get_state(config).values
        reply = build_reply(values, text if text is not None else values.get("draft"))
        sent_id = send(tenant, reply, settings=settings)
    except Exception:
        # Nothing went out: release the claim so the draft can be approved again.
        _set_status(settings, thread_id, "sending", "awaiting_review")
        raise

    _remember_sent(settings, owner, thread_id, sent_id)
    # Known limit: a crash right here leaves the thread "sending" with the reply
    # already sent; it is never sent twice, but a person must close the thread.
    action = {"action": "approve" if text is None else "edit", "text": text}
    graph_for(settings).invoke(Command(resume=action), config=config)
    _set_status(settings, thread_id, "sending", "answered", draft=reply.body)
    audit.record_done(
        settings=settings,
        actor=viewer.actor,
        action=f"thread.{action['action']}",
        user_id=owner,
        after={"thread_id": thread_id, "status": "answered"},
    )
    log.info("reply sent for thread %s of %s", thread_id, owner)
    return get_thread(viewer=viewer, thread_id=thread_id, settings=settings)


def reject_draft(
    *, viewer: Viewer, thread_id: str, settings: Settings | None = None
) -> ThreadPublic:
    """Close the thread without sending the draft."""
    return _close(viewer, thread_id, settings, "awaiting_review", "rejected")


def acknowledge(
    *, viewer: Viewer, thread_id: str, settings: Settings | None = None
) -> ThreadPublic:
    """Close a `notify` thread: the tenant has seen it."""
    return _close(viewer, thread_id, settings, "awaiting_ack", "acknowledged")


def _close(
    viewer: Viewer,
    thread_id: str,
    settings: Settings | None,
    expected: str,
    final: str,
) -> ThreadPublic:
    settings = settings or get_settings()
    owner = _claim(settings, viewer, thread_id, expected, final)
    config = run_config(load_tenant(settings, owner), thread_id)
    answer = {"action": "reject"} if final == "rejected" else {"action": "ack"}
    graph_for(settings).invoke(Command(resume=answer), config=config)
    audit.record_done(
        settings=settings,
        actor=viewer.actor,
        action=f"thread.{answer['action']}",
        user_id=owner,
        after={"thread_id": thread_id, "status": final},
    )
    log.info("thread %s of %s is %s", thread_id, owner, final)
    return get_thread(viewer=viewer, thread_id=thread_id, settings=settings)


def _claim(
    settings: Settings, viewer: Viewer, thread_id: str, expected: str, new: str
) -> str:
    """Move the thread from `expected` to `new`, or raise; returns its owner."""
    with session_scope(settings) as session:
        row = visible_row(session, viewer, thread_id)
        owner, current = row.owner, row.status
        claimed = session.execute(
            sa.update(Thread)
            .where(col(Thread.thread_id) == thread_id)
            .where(col(Thread.owner) == owner)
            .where(col(Thread.status) == expected)
            .values(status=new, updated_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"Thread {thread_id} is {current}, not {expected.replace('_', ' ')}; "
                "nothing was done."
            )
    return owner or ""


def _set_status(
    settings: Settings, thread_id: str, expected: str, new: str, **values: Any
) -> None:
    with session_scope(settings) as session:
        session.execute(
            sa.update(Thread)
            .where(col(Thread.thread_id) == thread_id)
            .where(col(Thread.status) == expected)
            .values(status=new, updated_at=utcnow(), **values)
        )


def load_tenant(settings: Settings, user_id: str) -> TenantInfo:
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        if user is None:
            raise UnknownTenant(user_id)
        return TenantInfo.model_validate(user.model_dump())


def build_reply(values: dict[str, Any], body: str | None) -> OutgoingReply:
    """A reply to the last message received, threaded by its Message-ID."""
    received = [email for email in values["emails"] if not email.get("from_self")]
    last = received[-1] if received else values["emails"][-1]
    subject = last["subject"].strip()
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}" if subject else "Re: your message"
    references = tuple(last.get("references") or ())
    if last.get("message_id"):
        references += (last["message_id"],)
    return OutgoingReply(
        thread_key=last["thread_key"],
        to=tuple(values.get("draft_to") or [last["from_address"]]),
        subject=subject,
        body=body or "",
        in_reply_to=last.get("message_id") or None,
        references=references,
    )


def send(tenant: TenantInfo, reply: OutgoingReply, *, settings: Settings) -> str | None:
    """Send (or draft) the reply; the id of the message the mailbox now holds."""
    if tenant.mail_source == "folder":
        write_reply(
            settings=settings,
            user_id=tenant.user_id,
            reply=reply,
            from_address=tenant.email,
            from_name=tenant.display_name,
        )
        return None

    # Imported here: the Gmail client is heavy and folder tenants never need it.
    from core.mail.gmail import send_reply

    made = send_reply(
        tenant, reply, settings=settings, as_draft=settings.send_mode == "gmail_draft"
    )
    return made.message_id


def _remember_sent(
    settings: Settings, owner: str, thread_id: str, message_id: str | None
) -> None:
    # Our own reply comes back on the next tick as the tenant's sent mail; it is
    # recorded as processed now so it does not reopen the thread it answered.
    if message_id is None:
        return
    try:
        with session_scope(settings) as session:
            session.add(
                ProcessedMessage(
                    owner=owner,
                    message_id=message_id,
                    thread_id=thread_id,
                    outcome="sent_by_review",
                )
            )
    except IntegrityError:
        log.debug("sent message %s of %s was already seen", message_id, owner)
