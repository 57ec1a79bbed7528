"""Raw RFC 5322 bytes to an EmailRecord, the one way both sources read mail.

The standard library's `email` package with the modern policy does the MIME work;
this module adds the tolerance real mail needs: wrong charsets, headers the policy
refuses, encoded words glued to text, dates with comments, bodies that are HTML only.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from core.errors import MessageUnparseable
from core.mail import headers as hdr
from core.mail.body import extract_body
from core.mail.record import EmailRecord
from core.mail.threading import fallback_key

log = logging.getLogger(__name__)

AUTOMATION_HEADERS = ("list-unsubscribe", "list-id", "auto-submitted", "precedence")
# A message without any of these is not mail (a stray binary, an empty file).
_IDENTIFYING = ("from", "to", "subject", "date", "message-id")


def content_id(raw: bytes) -> str:
    """The id of a message that has no Message-ID: a hash of its bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def parse_message(
    raw: bytes,
    *,
    source_id: str | None = None,
    thread_key: str | None = None,
    labels: Any = (),
    fallback_date: datetime | None = None,
) -> EmailRecord:
    """Parse one message; raise MessageUnparseable when it is not mail at all."""
    label = source_id or "(unnamed)"
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise MessageUnparseable(label, "the message is empty")

    try:
        msg = BytesParser(policy=policy.default).parsebytes(bytes(raw))
    except Exception as err:  # the parser is lenient; anything here is exceptional
        raise MessageUnparseable(
            label, f"the MIME structure is broken ({err})"
        ) from err
    if not any(name in msg for name in _IDENTIFYING):
        raise MessageUnparseable(label, "it has none of From, To, Subject or Date")

    return _record(msg, raw, source_id, thread_key, tuple(labels), fallback_date)


def date_fallback_reason(raw: bytes) -> str | None:
    """Why a record of `raw` carries the caller's fallback date; None if its Date reads.

    The record does not say, so a reader that shows the date (`parse`) asks here.
    """
    msg = BytesParser(policy=policy.default).parsebytes(bytes(raw), headersonly=True)
    if not hdr.raw_value(msg, "date"):
        return "no Date header"
    if hdr.date(msg) is None:
        return "unreadable Date header"
    return None


def _record(
    msg: Message,
    raw: bytes,
    source_id: str | None,
    thread_key: str | None,
    labels: tuple[str, ...],
    fallback_date: datetime | None,
) -> EmailRecord:
    message_id = hdr.message_id(msg) or ""
    in_reply_to = hdr.first_id(msg, "in-reply-to")
    references = hdr.id_list(msg, "references")
    subject = hdr.text(msg, "subject")
    sender_name, sender_address = hdr.sender(msg)
    body, attachments = extract_body(msg)

    key = thread_key or fallback_key(
        message_id=message_id or content_id(raw),
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
    )
    return EmailRecord(
        id=source_id or message_id or content_id(raw),
        thread_key=key,
        message_id=message_id,
        subject=subject,
        from_name=sender_name,
        from_address=sender_address,
        date=hdr.date(msg) or fallback_date or datetime.now(UTC),
        body=body,
        to=hdr.addresses(msg, "to"),
        cc=hdr.addresses(msg, "cc"),
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
        labels=labels,
        automation_headers=_automation(msg),
    )


def _automation(msg: Message) -> dict[str, str]:
    found = {name: hdr.text(msg, name) for name in AUTOMATION_HEADERS if name in msg}
    return {name: value for name, value in found.items() if value}
