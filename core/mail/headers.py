"""Header values read leniently from the raw header text.

The modern policy refuses or mangles some real headers (encoded words glued to
text, raw 8-bit bytes, two mailboxes without a comma), so values are taken raw
and decoded here, where every failure has a fallback.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
# Whitespace between two encoded words is folding, not text (RFC 2047 §6.2).
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?)")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_COMMENT = re.compile(r"\([^()]*\)")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_ADDRESS = re.compile(r"[^\s<>,;\"]+@[^\s<>,;\"]+")


def raw_value(msg: Message, name: str) -> str | None:
    """The first header `name` as it stands in the source, unfolded."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return _FOLD.sub("", str(value)).strip()
    return None


def text(msg: Message, name: str) -> str:
    """An unstructured header (Subject) decoded to text."""
    value = raw_value(msg, name)
    return decode_words(value) if value is not None else ""


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words anywhere, and stray 8-bit bytes as UTF-8."""
    value = _from_8bit(value)
    value = _BETWEEN_WORDS.sub(r"\1", value)
    return _ENCODED_WORD.sub(_decode_word, value)


def _from_8bit(value: str) -> str:
    # The parser keeps raw 8-bit header bytes as surrogates. Bytes holding UTF-8
    # sequences are read as UTF-8 (a broken one becomes a replacement character);
    # bytes with none are an old single-byte charset, most often Windows/Latin-1.
    data = value.encode("utf-8", "surrogateescape")
    if data.isascii():
        return value
    text = data.decode("utf-8", "replace")
    if any(not ch.isascii() and ch != "\ufffd" for ch in text):
        return text
    return data.decode("cp1252", "replace")


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, payload = match.groups()
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
    try:
        if encoding in "bB":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4))
        else:
            data = quopri.decodestring(payload.replace("_", " ").encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return match.group(0)
    return decode_bytes(data, charset)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; unknown charsets fall back to UTF-8."""
    for candidate in (charset or "utf-8", "utf-8"):
        try:
            return data.decode(_charset_alias(candidate), "replace")
        except LookupError:
            continue
    return data.decode("utf-8", "replace")


def _charset_alias(charset: str) -> str:
    name = charset.strip().strip('"').lower()
    # Mail clients label Windows text as latin-1 and write "ascii" for us-ascii;
    # cp1252 is a superset that decodes both without loss.
    if name in (
        "iso-8859-1",
        "latin1",
        "latin-1",
        "us-ascii",
        "ascii",
        "ansi_x3.4-1968",
    ):
        return "cp1252"
    return name


def addresses(msg: Message, name: str) -> tuple[str, ...]:
    """The addresses of To / Cc, lower-cased, in order."""
    return tuple(address for _, address in _mailboxes(msg, name))


def sender(msg: Message) -> tuple[str, str]:
    """(name, address) of the first mailbox in From (or Sender)."""
    for header in ("from", "sender"):
        found = _mailboxes(msg, header)
        if found:
            return found[0]
    return "", ""


def _mailboxes(msg: Message, name: str) -> list[tuple[str, str]]:
    value = raw_value(msg, name)
    if not value:
        return []
    # Split before decoding: an encoded display name may hold a comma.
    pairs = getaddresses([_from_8bit(value)])
    found = [
        (decode_words(display).strip(), address.strip().lower())
        for display, address in pairs
        if "@" in address
    ]
    if found:
        return found
    return [("", address.lower()) for address in _ADDRESS.findall(value)]


def message_id(msg: Message) -> str | None:
    return first_id(msg, "message-id")


def first_id(msg: Message, name: str) -> str | None:
    ids = id_list(msg, name)
    return ids[0] if ids else None


def id_list(msg: Message, name: str) -> tuple[str, ...]:
    """Message ids in angle brackets; a bare id without brackets is kept too."""
    value = raw_value(msg, name)
    if not value:
        return ()
    found = _MSG_ID.findall(value)
    if not found and value.split():
        found = [value.split()[0].strip("<>")]
    return tuple(f"<{item}>" for item in dict.fromkeys(found))


def normalise_id(value: str) -> str:
    """A Message-ID as `<local@domain>`, whatever brackets or spaces it came with."""
    match = _MSG_ID.search(value)
    core = match.group(1) if match else value.strip().strip("<>")
    return f"<{core}>"


def date(msg: Message) -> datetime | None:
    """The Date header as an aware datetime; None when it cannot be read."""
    value = raw_value(msg, "date")
    if not value:
        return None
    # Comments go first: parsedate takes the token after the time for the zone, so
    # "00:19:00 (EDT) -0400" would read "(EDT)", find no zone and lose the offset.
    for candidate in (_without_comments(value), value):
        parsed = _parse_date(candidate)
        if parsed is not None:
            return parsed
    return None


def _without_comments(value: str) -> str:
    # One pass drops the innermost level; repeat for nested ones like "(a (b))".
    while (stripped := _COMMENT.sub(" ", value)) != value:
        value = stripped
    return value


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(" ".join(value.split()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        # "-0000" means the zone is unknown; UTC is the honest reading.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
