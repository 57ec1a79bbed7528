"""The email record: what every mail source hands to the assistant.

Both sources build it with the same parser, so a message reads the same whether it
came from Gmail or from a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int


@dataclass(frozen=True)
class EmailRecord:
    """One parsed message.

    `id` is the source's id for the message (Gmail message id; for files the
    Message-ID header, or a content hash when there is none). `thread_key` is the
    source's thread id (Gmail threadId) or, for files, the key rebuilt from
    References / In-Reply-To / normalised subject.
    """

    id: str
    thread_key: str
    message_id: str
    subject: str
    from_name: str
    from_address: str
    date: datetime
    body: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    labels: tuple[str, ...] = ()
    # Headers that mark automated mail: list-unsubscribe, list-id, auto-submitted,
    # precedence; keys lower-case.
    automation_headers: dict[str, str] = field(default_factory=dict)
    # Sent by the tenant: the thread counts as answered and is not triaged.
    from_self: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "thread_key": self.thread_key,
            "message_id": self.message_id,
            "subject": self.subject,
            "from_name": self.from_name,
            "from_address": self.from_address,
            "to": list(self.to),
            "cc": list(self.cc),
            "date": self.date.isoformat(),
            "body": self.body,
            "attachments": [{"name": a.name, "size": a.size} for a in self.attachments],
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "labels": list(self.labels),
            "automation_headers": dict(self.automation_headers),
            "from_self": self.from_self,
        }


@dataclass(frozen=True)
class ParseFailure:
    """A message that could not be read at all: recorded, skipped, never fatal."""

    id: str
    reason: str


@dataclass(frozen=True)
class FetchResult:
    """New messages since a cursor, and the cursor to store once they are processed."""

    messages: list[EmailRecord]
    failures: list[ParseFailure]
    next_cursor: dict[str, Any]
    # True when the source could not list everything it has in this call
    # (a release limit, a bounded full sync); the next tick continues.
    more: bool = False


@dataclass(frozen=True)
class OutgoingReply:
    """An approved reply to send in a thread."""

    thread_key: str
    to: tuple[str, ...]
    subject: str
    body: str
    in_reply_to: str | None
    references: tuple[str, ...]
