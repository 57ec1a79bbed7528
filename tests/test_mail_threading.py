"""Thread keys for files: References, then In-Reply-To, then the normalised subject."""

from __future__ import annotations

import pytest

from core.mail.parser import parse_message
from core.mail.threading import assign_thread_keys, normalise_subject
from tests.mail_support import make_message


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("RE: Fwd: re[2]: Budget  2027", "budget 2027"),
        ("AW: Termin", "termin"),
        ("[team] Re: Launch", "launch"),
        ("RE:", ""),
        ("Budget", "budget"),
    ],
)
def test_normalise_subject_strips_prefixes(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


def test_assign_joins_reply_with_references_to_subject_keyed_root() -> None:
    root = parse_message(make_message(subject="Budget", message_id="<root@x>"))
    reply = parse_message(
        make_message(subject="Re: Budget", message_id="<r1@x>", in_reply_to="<root@x>")
    )
    outlook = parse_message(make_message(subject="RE: budget", message_id="<r2@x>"))

    keys = {
        r.message_id: r.thread_key for r in assign_thread_keys([reply, root, outlook])
    }

    assert keys["<root@x>"] == keys["<r1@x>"] == keys["<r2@x>"]


def test_assign_bare_re_subjects_never_join() -> None:
    first = parse_message(make_message(subject="RE:", message_id="<a@x>"))
    second = parse_message(make_message(subject="Re: ", message_id="<b@x>"))

    keys = [r.thread_key for r in assign_thread_keys([first, second])]

    assert keys == ["msg:<a@x>", "msg:<b@x>"]


def test_assign_key_of_root_does_not_change_when_replies_arrive() -> None:
    root = parse_message(make_message(subject="Plan", message_id="<p@x>"))
    before = assign_thread_keys([root])[0].thread_key
    reply = parse_message(
        make_message(subject="Re: Plan", message_id="<q@x>", in_reply_to="<p@x>")
    )

    after = assign_thread_keys([root, reply])

    assert [r.thread_key for r in after] == [before, before]


def test_assign_messages_without_message_id_or_subject_never_join() -> None:
    raws = [
        f"From: a{n}@example.org\nTo: me@example.com\n\nbody {n}\n".encode()
        for n in range(3)
    ]
    records = [parse_message(raw) for raw in raws]

    keys = [r.thread_key for r in assign_thread_keys(records)]

    assert all(r.message_id == "" for r in records)
    assert len(set(keys)) == 3
    assert keys == [f"msg:{r.id}" for r in records]
