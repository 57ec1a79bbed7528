"""Demo mail: three invented mailboxes of well-formed, threaded RFC 5322 messages."""

from __future__ import annotations

import re
from collections import Counter
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

import pytest

DEMO_MAIL = Path(__file__).resolve().parent.parent / "core" / "demo_mail"
PEOPLE = sorted(p.name for p in DEMO_MAIL.iterdir() if p.is_dir())
MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
# Only the domains reserved for documentation (RFC 2606) and their subdomains, so a
# demo reply can never reach a real mailbox.
RESERVED = re.compile(r"(^|\.)example\.(com|org|net)$")


def _parse(path: Path) -> EmailMessage:
    with path.open("rb") as fh:
        return BytesParser(policy=policy.default).parse(fh)


@pytest.fixture(scope="module")
def mailboxes() -> dict[str, list[EmailMessage]]:
    return {
        person: [_parse(p) for p in sorted((DEMO_MAIL / person).glob("*.eml"))]
        for person in PEOPLE
    }


def _addresses(message: EmailMessage, *headers: str) -> list[str]:
    values = [str(v) for h in headers for v in message.get_all(h, [])]
    return [addr.lower() for _, addr in getaddresses(values) if addr]


def _owner(messages: list[EmailMessage]) -> str:
    """The mailbox owner is the address most messages are sent to."""
    counts = Counter(a for m in messages for a in _addresses(m, "To", "Cc"))
    return counts.most_common(1)[0][0]


def test_demo_mail_has_three_mailboxes_and_a_readme() -> None:
    readme = (DEMO_MAIL / "README.md").read_text(encoding="utf-8")

    assert len(PEOPLE) == 3
    assert all(person in readme for person in PEOPLE)


@pytest.mark.parametrize("person", PEOPLE)
def test_mailbox_holds_28_to_32_messages(
    mailboxes: dict[str, list[EmailMessage]], person: str
) -> None:
    count = len(mailboxes[person])

    assert 28 <= count <= 32


def test_every_message_has_the_required_headers(
    mailboxes: dict[str, list[EmailMessage]],
) -> None:
    required = ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version")

    missing = [
        (person, name)
        for person, messages in mailboxes.items()
        for m in messages
        for name in required
        if m[name] is None
    ]

    assert missing == []


def test_message_ids_are_well_formed_and_unique_across_mailboxes(
    mailboxes: dict[str, list[EmailMessage]],
) -> None:
    ids = [m["Message-ID"] for messages in mailboxes.values() for m in messages]

    assert all(MESSAGE_ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_every_date_is_timezone_aware(
    mailboxes: dict[str, list[EmailMessage]],
) -> None:
    dates = [m["Date"].datetime for msgs in mailboxes.values() for m in msgs]

    assert all(d.utcoffset() is not None for d in dates)
    assert len({d.utcoffset() for d in dates}) >= 4


@pytest.mark.parametrize("person", PEOPLE)
def test_replies_point_only_into_their_own_mailbox(
    mailboxes: dict[str, list[EmailMessage]], person: str
) -> None:
    messages = mailboxes[person]
    own_ids = {m["Message-ID"] for m in messages}

    pointers = [
        ref
        for m in messages
        if m["In-Reply-To"]
        for ref in [m["In-Reply-To"], *(m["References"] or "").split()]
    ]

    assert pointers
    assert set(pointers) <= own_ids


@pytest.mark.parametrize("person", PEOPLE)
def test_mailbox_has_the_expected_mix(
    mailboxes: dict[str, list[EmailMessage]], person: str
) -> None:
    messages = mailboxes[person]
    owner = _owner(messages)

    newsletters = [m for m in messages if m["List-Unsubscribe"]]
    with_attachment = [
        m for m in messages if m.is_multipart() and any(m.iter_attachments())
    ]
    replies = [m for m in messages if m["In-Reply-To"]]
    from_owner = [m for m in messages if owner in _addresses(m, "From")]

    assert newsletters
    assert with_attachment
    assert len(replies) >= 5
    assert from_owner


def test_multipart_alternative_and_encoded_subjects_are_present(
    mailboxes: dict[str, list[EmailMessage]],
) -> None:
    messages = [m for msgs in mailboxes.values() for m in msgs]
    raw_headers = [
        p.read_bytes().split(b"\n\n", 1)[0] for p in DEMO_MAIL.glob("*/*.eml")
    ]

    alternatives = [m for m in messages if m.get_content_type().endswith("alternative")]
    non_ascii = [m for m in messages if not str(m["Subject"]).isascii()]
    encoded_words = [h for h in raw_headers if b"\nSubject: =?utf-8?" in h]

    assert len(alternatives) >= 3
    assert non_ascii
    assert len(encoded_words) == len(non_ascii)


def test_bare_re_subjects_belong_to_unrelated_conversations(
    mailboxes: dict[str, list[EmailMessage]],
) -> None:
    bare = [
        m for msgs in mailboxes.values() for m in msgs if str(m["Subject"]) == "Re:"
    ]

    ancestries = [set((m["References"] or "").split()) for m in bare]

    assert len(bare) >= 2
    assert not set.intersection(*ancestries)


def test_only_reserved_example_domains_are_used(
    mailboxes: dict[str, list[EmailMessage]],
) -> None:
    headers = ("From", "To", "Cc", "Reply-To")

    domains = {
        addr.rsplit("@", 1)[1]
        for msgs in mailboxes.values()
        for m in msgs
        for addr in _addresses(m, *headers)
    }

    assert domains
    assert all(RESERVED.search(d) for d in domains), domains
