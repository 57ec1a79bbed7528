"""A small .eml reader for agent tests and the benchmark, until the real parser lands.

It builds `EmailRecord`s with the standard library only; the mail issue's parser
replaces it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from core.mail.record import EmailRecord

AUTOMATION = ("list-unsubscribe", "list-id", "auto-submitted", "precedence")
SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd)\s*:\s*)+", re.IGNORECASE)


def parse_eml(path: Path, *, tenant_email: str = "") -> EmailRecord:
    raw = path.read_bytes()
    message: EmailMessage = message_from_bytes(raw, policy=policy.compat32)  # type: ignore[assignment]
    message_id = _header(message, "message-id").strip()
    references = tuple(_header(message, "references").split())
    in_reply_to = _header(message, "in-reply-to").strip() or None
    subject = _header(message, "subject")
    senders = getaddresses([_header(message, "from")])
    from_name, from_address = senders[0] if senders else ("", "")
    return EmailRecord(
        id=message_id or hashlib.sha256(raw).hexdigest(),
        thread_key=_thread_key(references, in_reply_to, subject, message_id),
        message_id=message_id,
        subject=subject,
        from_name=from_name,
        from_address=from_address.lower(),
        date=_date(message),
        body=_body(message),
        to=tuple(a.lower() for _, a in getaddresses([_header(message, "to")]) if a),
        cc=tuple(a.lower() for _, a in getaddresses([_header(message, "cc")]) if a),
        in_reply_to=in_reply_to,
        references=references,
        automation_headers={
            name: _header(message, name) for name in AUTOMATION if message[name]
        },
        from_self=bool(tenant_email) and from_address.lower() == tenant_email.lower(),
    )


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    try:
        from email.header import decode_header, make_header

        return str(make_header(decode_header(str(value)))).strip()
    except (UnicodeError, LookupError, ValueError):
        return str(value).strip()


def _thread_key(
    references: tuple[str, ...], in_reply_to: str | None, subject: str, own_id: str
) -> str:
    if references:
        return references[0]
    if in_reply_to:
        return in_reply_to
    normalised = SUBJECT_PREFIX.sub("", subject).strip().lower()
    return f"subject:{normalised}" if normalised else own_id or "no-subject"


def _date(message: EmailMessage) -> datetime:
    try:
        parsed = parsedate_to_datetime(_header(message, "date"))
    except (TypeError, ValueError, IndexError):
        return datetime(1970, 1, 1, tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _body(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            try:
                return payload.decode(charset, errors="replace")
            except LookupError:
                return payload.decode("utf-8", errors="replace")
    return ""
