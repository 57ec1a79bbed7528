"""The readable text of a message and its attachments, across nested multiparts."""

from __future__ import annotations

import logging
from email.message import Message

import html2text

from core.mail.headers import decode_bytes, decode_words
from core.mail.record import Attachment

log = logging.getLogger(__name__)

_TEXT_TYPES = ("text/plain", "text/html")


def extract_body(msg: Message) -> tuple[str, tuple[Attachment, ...]]:
    """(body text, attachments): text/plain preferred, else text made from HTML."""
    attachments: list[Attachment] = []
    body = _part_text(msg, attachments)
    return body.strip(), tuple(attachments)


def _part_text(part: Message, attachments: list[Attachment]) -> str:
    ctype = part.get_content_type()
    if _is_attachment(part):
        attachments.append(_attachment(part))
        return ""
    if part.is_multipart():
        children = _children(part)
        if ctype == "multipart/alternative":
            return _best_alternative(children, attachments)
        return _joined(children, attachments)
    if ctype == "text/html":
        return html_to_text(_decoded_text(part))
    if ctype.startswith(("text/", "multipart/")):
        # A multipart without a usable boundary arrives as one blob of text.
        return _decoded_text(part)
    attachments.append(_attachment(part))
    return ""


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return (
        [p for p in payload if isinstance(p, Message)]
        if isinstance(payload, list)
        else []
    )


def _joined(children: list[Message], attachments: list[Attachment]) -> str:
    texts = [_part_text(child, attachments) for child in children]
    return "\n\n".join(t.strip() for t in texts if t.strip())


def _best_alternative(children: list[Message], attachments: list[Attachment]) -> str:
    # Read every alternative so attachments nested in any of them are listed, then
    # prefer a non-empty plain text over text made from HTML.
    texts = [
        (child.get_content_type(), _part_text(child, attachments)) for child in children
    ]
    plain = [t for ctype, t in texts if ctype == "text/plain" and t.strip()]
    if plain:
        return plain[0]
    others = [t for _, t in texts if t.strip()]
    return others[-1] if others else ""


def _is_attachment(part: Message) -> bool:
    if part.get_content_disposition() == "attachment":
        return True
    if part.is_multipart():
        return False
    return _filename(part) is not None and part.get_content_type() not in _TEXT_TYPES


def _attachment(part: Message) -> Attachment:
    return Attachment(name=_filename(part) or "", size=len(_payload_bytes(part)))


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, TypeError, IndexError, AttributeError):
        name = None
    if name is None:
        return None
    return decode_words(str(name)).strip() or None


def _payload_bytes(part: Message) -> bytes:
    if part.is_multipart() or part.get_content_type() == "message/rfc822":
        return part.as_bytes() if hasattr(part, "as_bytes") else b""
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        data = None
    return data if isinstance(data, bytes) else b""


def _decoded_text(part: Message) -> str:
    data = _payload_bytes(part)
    try:
        charset = part.get_content_charset()
    except (ValueError, TypeError):
        charset = None
    return decode_bytes(data, charset).replace("\r\n", "\n")


def html_to_text(html: str) -> str:
    """Readable text from HTML: no tags, styles or scripts; link text kept."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_links = True
    converter.unicode_snob = True
    try:
        return converter.handle(html).strip()
    except Exception:  # html2text chokes on rare malformed markup
        log.warning("HTML part could not be converted; its text is dropped")
        return ""
