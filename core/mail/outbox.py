"""Replies of folder tenants, written as .eml files into their outbox.

The outbox lives under the data dir, not in the mailbox folder, because that folder
may be mounted read-only. A file appears whole or not at all (written, then renamed).
"""

from __future__ import annotations

import logging
import os
import uuid
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from core.mail.record import OutgoingReply
from core.settings import Settings

log = logging.getLogger(__name__)


def outbox_dir(*, settings: Settings, user_id: str) -> Path:
    return settings.data_dir / "outbox" / user_id


def build_message(
    *, reply: OutgoingReply, from_address: str, from_name: str = ""
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((from_name, from_address))
    message["To"] = ", ".join(reply.to)
    message["Subject"] = reply.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or None)
    if reply.in_reply_to:
        message["In-Reply-To"] = reply.in_reply_to
    if reply.references:
        message["References"] = " ".join(reply.references)
    message.set_content(reply.body)
    return message


def write_reply(
    *,
    settings: Settings,
    user_id: str,
    reply: OutgoingReply,
    from_address: str,
    from_name: str = "",
) -> Path:
    """Write the reply into the tenant's outbox; returns the file's path."""
    folder = outbox_dir(settings=settings, user_id=user_id)
    folder.mkdir(parents=True, exist_ok=True)
    message = build_message(reply=reply, from_address=from_address, from_name=from_name)

    name = f"{uuid.uuid4().hex}.eml"
    partial = folder / f".{name}.partial"
    partial.write_bytes(message.as_bytes())
    os.replace(partial, folder / name)

    log.info("reply for %s written to outbox as %s", user_id, name)
    return folder / name
