"""Thread keys for mail that carries no source thread id (files, exports).

A reply names its thread's first message in References (or its parent in
In-Reply-To); old clients send neither, so the normalised subject is the last
resort. A subject that normalises to nothing (a bare "RE:") never joins messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from core.mail.record import EmailRecord

# Reply and forward prefixes in the languages our users' correspondents write in,
# optionally numbered ("Re[2]:") and repeated ("Re: Fwd: re:").
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|rif|tr|ref)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_LIST_TAG = re.compile(r"^\s*\[[^\]]{1,40}\]\s*")
_SPACE = re.compile(r"\s+")


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes or list tags, case-folded."""
    text = subject
    while True:
        stripped = _LIST_TAG.sub("", _PREFIX.sub("", text))
        if stripped == text:
            break
        text = stripped
    return _SPACE.sub(" ", text).strip().casefold()


def fallback_key(
    *,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    subject: str,
) -> str:
    """The key of one message seen alone: its thread root, else its subject."""
    if references:
        return f"msg:{references[0]}"
    if in_reply_to:
        return f"msg:{in_reply_to}"
    topic = normalise_subject(subject)
    if topic:
        return f"subject:{topic}"
    return f"msg:{message_id}"


def assign_thread_keys(records: Iterable[EmailRecord]) -> list[EmailRecord]:
    """Give each record the key of the oldest ancestor found among `records`.

    A reply whose root is in the set takes the root's key, so a root keyed by
    subject and a reply keyed by References land in the same thread. The key only
    depends on the root message, so it stays the same as more files arrive.
    """
    items = list(records)
    by_message_id = {r.message_id: r for r in items if r.message_id}
    return [replace(r, thread_key=_root_key(r, by_message_id)) for r in items]


def _root_key(record: EmailRecord, known: dict[str, EmailRecord]) -> str:
    current = record
    seen = {record.message_id}
    while True:
        parent = _known_parent(current, known)
        if parent is None or parent.message_id in seen:
            return _own_key(current)
        seen.add(parent.message_id)
        current = parent


def _known_parent(
    record: EmailRecord, known: dict[str, EmailRecord]
) -> EmailRecord | None:
    # The first reference is the thread root; In-Reply-To the direct parent.
    for candidate in (*record.references[:1], record.in_reply_to):
        if candidate and candidate in known and candidate != record.message_id:
            return known[candidate]
    return None


def _own_key(record: EmailRecord) -> str:
    return fallback_key(
        # Without a Message-ID the record's own id keeps the key its own: an empty
        # one would join every such message without a subject into one thread.
        message_id=record.message_id or record.id,
        in_reply_to=record.in_reply_to,
        references=record.references,
        subject=record.subject,
    )
