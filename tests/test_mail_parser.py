"""The parser: exact cases that broke other readers, and every tricky/ quirk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import MessageUnparseable
from core.mail.gmail_client import decode_raw
from core.mail.parser import parse_message

NESTED_OFFER = (
    b"From: Offers <offers@shop.example>\r\n"
    b"To: olivia@acme.example\r\n"
    b"Subject: Your offer\r\n"
    b"Date: Tue, 01 Dec 2026 09:00:00 +0100\r\n"
    b"Message-ID: <offer-1@shop.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n'
    b"\r\n"
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="inner"\r\n'
    b"\r\n"
    b"--inner\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"\r\n"
    b"--inner\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<html><head><style>p {color: red}</style><script>alert(1)</script></head>"
    b"<body><p>Your code is <b>482913</b></p></body></html>\r\n"
    b"--inner--\r\n"
    b"--outer\r\n"
    b'Content-Type: application/pdf; name="offer.pdf"\r\n'
    b'Content-Disposition: attachment; filename="offer.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQKJcfsj6IK\r\n"
    b"--outer--\r\n"
)


def _headers_only(**headers: str) -> bytes:
    lines = [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\nHello.\r\n").encode("utf-8")


def test_decode_raw_accepts_base64url_without_padding() -> None:
    data = "R3LDvMOfZSBhdXMgS8O2bG4"

    text = decode_raw(data).decode("utf-8")

    assert text == "Grüße aus Köln"


def test_parse_decodes_unpadded_base64_text_part() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: Gruss\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nR3LDvMOfZSBhdXMgS8O2bG4\r\n"
    )

    record = parse_message(raw)

    assert record.body == "Grüße aus Köln"


def test_parse_nested_alternative_uses_html_when_plain_is_empty() -> None:
    record = parse_message(NESTED_OFFER)

    assert record.body == "Your code is 482913"
    assert [a.name for a in record.attachments] == ["offer.pdf"]
    assert record.attachments[0].size == 15
    assert "color" not in record.body and "alert" not in record.body


def test_parse_single_part_message_keeps_body() -> None:
    raw = b"From: a@example.org\r\nSubject: Plain\r\n\r\nJust one part.\r\n"

    record = parse_message(raw)

    assert record.body == "Just one part."
    assert record.attachments == ()


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re:=?UTF-8?B?w5xiZXJwcsO8ZnVuZw==?=", "Re:Überprüfung"),
        ("=?UTF-8?Q?Caf=C3=A9?=\r\n =?UTF-8?Q?_Ol=C3=A9?=", "Café Olé"),
        ("Lunch on Friday?", "Lunch on Friday?"),
    ],
)
def test_parse_decodes_encoded_word_subjects(subject: str, expected: str) -> None:
    raw = _headers_only(From="a@example.org", Subject=subject)

    record = parse_message(raw)

    assert record.subject == expected


def test_parse_decodes_latin1_encoded_sender_name() -> None:
    raw = _headers_only(
        From="=?ISO-8859-1?Q?Ren=E9e_Dupr=E9?= <renee.dupre@example.org>",
        Subject="Bonjour",
    )

    record = parse_message(raw)

    assert record.from_name == "Renée Dupré"
    assert record.from_address == "renee.dupre@example.org"


def test_parse_malformed_date_falls_back() -> None:
    fallback = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    raw = _headers_only(From="a@example.org", Subject="x", Date="not a date at all")

    record = parse_message(raw, fallback_date=fallback)

    assert record.date == fallback


def test_parse_date_is_timezone_aware() -> None:
    raw = _headers_only(
        From="a@example.org", Subject="x", Date="Tue, 01 Dec 2026 09:00:00 +0100"
    )

    record = parse_message(raw)

    assert record.date.utcoffset() is not None
    assert record.date.astimezone(UTC).hour == 8


def test_parse_keeps_reply_headers() -> None:
    raw = _headers_only(
        From="a@example.org",
        Subject="Re: plan",
        Message_ID="<c@example.org>",
        In_Reply_To="<b@example.org>",
        References="<a@example.org>\r\n <b@example.org>",
    )

    record = parse_message(raw)

    assert record.message_id == "<c@example.org>"
    assert record.in_reply_to == "<b@example.org>"
    assert record.references == ("<a@example.org>", "<b@example.org>")
    assert record.thread_key == "msg:<a@example.org>"


def test_parse_uses_given_ids_and_labels() -> None:
    raw = _headers_only(From="a@example.org", Subject="x", Message_ID="<m@x>")

    record = parse_message(
        raw, source_id="18c0abc", thread_key="18c0000", labels=["INBOX"]
    )

    assert (record.id, record.thread_key, record.labels) == (
        "18c0abc",
        "18c0000",
        ("INBOX",),
    )


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x89PNG\r\n\x1a\n\x00\x00binary"])
def test_parse_refuses_what_is_not_mail(raw: bytes) -> None:
    with pytest.raises(MessageUnparseable):
        parse_message(raw, source_id="broken-1")


# file, subject, sender address, body snippet, attachment names
TRICKY = [
    ("flanker__8bitmime.eml", "2 RCPT MIME", "bob@example.com", "Превел", []),
    (
        "flanker__apache-message-news-mime.eml",
        "[Fwd: Netscape Enterprise vs. Apache Secure]",
        "hartill@lanl.gov",
        "I am currently evaluating secure",
        [],
    ),
    (
        "flanker__attached-pdf.eml",
        "test message via curl - extra content-type (_001_)",
        "",
        "Test - body content",
        ["test.pdf"],
    ),
    (
        "flanker__bilingual-simple.eml",
        "Simple text. How are you? Как ты поживаешь?",
        "hello@example.com",
        "А эта линия по-русски.",
        [],
    ),
    (
        "flanker__bz2-attachment.eml",
        "hello",
        "alice@example.com",
        "hello, world",
        ["foo.txt.bz2"],
    ),
    ("flanker__dashed-boundaries.eml", "Hi", "me@example.com", "Hi", []),
    (
        "flanker__disposition-notification.eml",
        "Disposition notification",
        "joe_recipient@example.com",
        "The message sent on 1995 Sep 19",
        [],
    ),
    ("flanker__encoded-header.eml", "hello", "foo.bar@example.com", "hello, world", []),
    (
        "flanker__false-multipart.eml",
        "Broken MIME",
        "broken.mime@notreallymultipart.com",
        "",
        [],
    ),
    (
        "flanker__from-encoding.eml",
        "Re: running server as root (Was: Re: PUT method)",
        "ingo@blank.pages.de",
        "Marc Slemko wrote:",
        [],
    ),
    (
        "flanker__iphone.eml",
        "Subject",
        "someone@somewhere.com",
        "~Danielle",
        ["photo.JPG"],
    ),
    (
        "flanker__long-links.eml",
        "Please enjoy this mega long link",
        "postmaster@example.com",
        "http://www.longurlmaker.com/view/?id=",
        [],
    ),
    ("flanker__mailformed-headers.eml", "´!", "headers@gmail.com", "Hello", []),
    (
        "flanker__message-external-body.eml",
        "I-D ACTION:draft-ietf-http-authentication-00.txt (fwd)",
        "marcs@znep.com",
        "Actual work on authentication?",
        [],
    ),
    ("flanker__missing-final-boundary.eml", "Test", "me@example.com", "Some body", []),
    (
        "flanker__multi-received-headers.eml",
        "Fwd: Please forward this email to me",
        "hello@example.com",
        "---------- Forwarded message ----------",
        [],
    ),
    ("flanker__multipart.eml", "Welcome", "administrator@example.com", "Sasha", []),
    (
        "flanker__no-ctype.eml",
        "Testing message parsing",
        "bob@marley.com",
        "I'm just testing",
        [],
    ),
    ("flanker__outlook-express.eml", "Sup?", "bob@example.com", "", ["�½� �ı��ĵ�.txt"]),
    (
        "flanker__quoted-printable.eml",
        "This message contains very long links in html",
        "bob@example.com",
        "Please note that this email contains extremely long links",
        [],
    ),
    (
        "flanker__relative.eml",
        "Html and text message",
        "example@example.com",
        "This is html and text message",
        [],
    ),
    (
        "flanker__russian-attachment-yahoo.eml",
        "Hello",
        "mailboxaddr1234567@yahoo.com",
        "Hello",
        ["Картинка с очень, очень длинным предлинным именем преименем таким чт�"],
    ),
    (
        "flanker__spam__broken-ctype.eml",
        "its me A",
        "hello@example.com",
        "How are you?",
        ["facejj.jpg"],
    ),
    (
        "flanker__text-only.eml",
        "Testing message parsing",
        "bob@marley.com",
        "BR,\nBob",
        [],
    ),
    (
        "flanker__torture-part.eml",
        "Multi-media mail demonstration",
        "mrc@cac.washington.edu",
        "This is a demonstration of multi-part mail",
        [],
    ),
    (
        "flanker__bounce__office365.eml",
        "Undeliverable: test_bounce 8",
        "postmaster@example.no",
        "Your message to noname@example.com couldn't be delivered.",
        [],
    ),
    (
        "flanker__bounce__gmail-invalid-address.eml",
        "Delivery Status Notification (Failure)",
        "mailer-daemon@googlemail.com",
        "Delivery to the following recipient failed permanently",
        [],
    ),
    (
        "flanker__bounce__mailbox-full.eml",
        "Undelivered Mail Returned to Sender",
        "mailer-daemon@aol.com",
        "Your e-mail is being returned to you",
        [],
    ),
    (
        "flanker__complaints__aol.eml",
        "Email Feedback Report for IP 173.193.210.34",
        "scomp@aol.net",
        "This is an email abuse report",
        [],
    ),
    (
        "enmime__mail__ctype-bug.eml",
        "Welcome to Papertrail",
        "support@papertrailapp.com",
        "Head over to the Quick Start",
        [],
    ),
    (
        "enmime__mail__mime-bad-content-type.eml",
        "Confirmation of Booking with easyHotel",
        "bookings@easyhotel.com",
        "Thank you for booking with easyHotel.",
        ["Invoice_302232133150612.pdf"],
    ),
    (
        "enmime__mail__mime-duplicate-param.eml",
        "Confirmation of Booking with easyHotel",
        "bookings@easyhotel.com",
        "Thank you for booking with easyHotel.",
        ["Invoice_302232133150612.pdf"],
    ),
    (
        "enmime__mail__mime-unquoted-tspecials-param.eml",
        "Confirmation of Booking with easyHotel",
        "bookings@easyhotel.com",
        "You may review your booking details",
        ["Invoice_(302232133150612).pdf"],
    ),
    (
        "enmime__mail__mime-bad-8bit-filename.eml",
        "Malformed test",
        "pavel.bazika@some.domain",
        "Text part",
        ["管理.doc"],
    ),
    (
        "enmime__mail__mime-bad-content-transfer-encoding.eml",
        "alert",
        "example@demo.com",
        "ploozdect",
        [],
    ),
    (
        "enmime__mail__qp-utf8-header.eml",
        "MIME UTF8 Test ¢ More Text",
        "jamehi03@jamehi03lx.noa.com",
        "Lorem ipsum dolor sit amet",
        [],
    ),
    (
        "enmime__mail__html-only-inline.eml",
        "MIME test 1",
        "james@makita.skynet",
        "Test of HTML section",
        ["favicon.png"],
    ),
    (
        "enmime__mail__attachment-only.eml",
        "Test",
        "alice@test.com",
        "",
        ["favicon.jpg"],
    ),
    (
        "enmime__mail__malformed-multiple-address-header-values.eml",
        "Test",
        "bob@extern",
        "Simple text.",
        ["test.pdf"],
    ),
    (
        "enmime__mail__multipart-wo-boundary.eml",
        "Delivery Status Notification (Failure)",
        "mailer-daemon@example.com",
        "multipart message without boundary",
        [],
    ),
    (
        "enmime__low-quality__bad-final-boundary.eml",
        "Attachment",
        "james@makita.skynet",
        "A text section",
        ["foo_9E5D72.zip"],
    ),
    (
        "enmime__low-quality__missing-content-type2.eml",
        "plain text",
        "james@makita.skynet",
        "A text section",
        [],
    ),
]


def test_tricky_table_covers_every_file(mail_data: Path) -> None:
    files = {p.name for p in (mail_data / "tricky").glob("*.eml")}

    covered = {row[0] for row in TRICKY}

    assert covered == files


@pytest.mark.parametrize(
    ("name", "subject", "sender", "snippet", "attachments"), TRICKY
)
def test_parse_tricky_file_reads_its_quirk(
    mail_data: Path,
    name: str,
    subject: str,
    sender: str,
    snippet: str,
    attachments: list[str],
) -> None:
    raw = (mail_data / "tricky" / name).read_bytes()

    record = parse_message(raw, source_id=name)

    assert record.subject == subject
    assert record.from_address == sender
    assert snippet in record.body
    assert [a.name for a in record.attachments] == attachments


def test_parse_html_only_message_has_no_markup(mail_data: Path) -> None:
    raw = (mail_data / "tricky" / "flanker__long-links.eml").read_bytes()

    record = parse_message(raw)

    assert "<" not in record.body and "href" not in record.body


def test_parse_comma_in_encoded_name_is_one_sender(mail_data: Path) -> None:
    raw = (mail_data / "tricky" / "flanker__encoded-header.eml").read_bytes()

    record = parse_message(raw)

    assert (record.from_name, record.from_address) == (
        "Foo, Bar",
        "foo.bar@example.com",
    )


def test_parse_date_with_comment_before_zone_keeps_the_zone(mail_data: Path) -> None:
    raw = (mail_data / "tricky" / "flanker__disposition-notification.eml").read_bytes()

    record = parse_message(raw)

    assert record.date.isoformat() == "1995-09-20T00:19:00-04:00"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Wed, 20 Sep 1995 00:19:00 (EDT) -0400", "1995-09-20T00:19:00-04:00"),
        (
            "Wed, 20 Sep 1995 00:19:00 (a (nested) one) -0400",
            "1995-09-20T00:19:00-04:00",
        ),
        ("Sun, 7 Feb 2010 14:02:38 -0800 (PST)", "2010-02-07T14:02:38-08:00"),
        ("(sent) Fri, 29 Jul 2011 04:08:56 -0400", "2011-07-29T04:08:56-04:00"),
        ("Wed, 17 Nov 2010 15:02:19 EST", "2010-11-17T15:02:19-05:00"),
    ],
)
def test_parse_date_ignores_comments_anywhere(date: str, expected: str) -> None:
    raw = _headers_only(From="a@example.org", Subject="x", Date=date)

    record = parse_message(raw)

    assert record.date.isoformat() == expected
