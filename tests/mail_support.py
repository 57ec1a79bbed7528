"""Helpers for the mail tests: messages built in code, a tenant on the fake Gmail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from google.oauth2.credentials import Credentials

from core import db
from core.mail.credentials import store_credentials
from core.models import TenantInfo, User
from core.settings import Settings
from tests.fakes.fake_gmail import FakeGmail


def make_message(
    *,
    subject: str = "Quarterly numbers",
    sender: str = "Alice Example <alice@example.org>",
    to: str = "olivia@acme.example",
    body: str = "Please have a look.",
    date: datetime | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


def gmail_settings(settings: Settings, fake: FakeGmail, **extra: object) -> Settings:
    """`settings` pointed at the fake, with retry waits of a millisecond."""
    update = {
        "google_api_endpoint": fake.url,
        "google_batch_uri": fake.batch_uri,
        "google_token_uri": fake.token_uri,
        "gmail_retry_base_seconds": 0.001,
        **extra,
    }
    return settings.model_copy(update=update)


def connect_tenant(
    fake: FakeGmail,
    settings: Settings,
    *,
    user_id: str = "olivia",
    email: str = "olivia@acme.example",
) -> tuple[TenantInfo, str]:
    """A Gmail tenant with a token stored; returns it and its refresh token."""
    access, refresh = fake.add_account(email)
    with db.session_scope(settings) as session:
        session.add(User(user_id=user_id, email=email, mail_source="gmail"))
    credentials = Credentials(
        token=access,
        refresh_token=refresh,
        client_id="client-id.apps.example",
        client_secret="client-secret",
        token_uri=fake.token_uri,
        # google-auth compares naive UTC expiry times.
        expiry=(datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None),
    )
    store_credentials(user_id=user_id, credentials=credentials, settings=settings)
    return TenantInfo(user_id=user_id, email=email, mail_source="gmail"), refresh


def mark_processed(settings: Settings, owner: str, *message_ids: str) -> None:
    from core.models import ProcessedMessage

    with db.session_scope(settings) as session:
        for message_id in message_ids:
            session.add(ProcessedMessage(owner=owner, message_id=message_id))


def folder_expectations(folder: Path) -> tuple[int, int]:
    """Distinct messages and distinct thread keys, as the folder source reads them."""
    from core.mail.folder import message_files, read_file
    from core.mail.threading import assign_thread_keys

    records = {}
    for path in message_files(folder):
        parsed = read_file(path)
        if parsed.record is not None:
            records.setdefault(parsed.record.id, parsed.record)
    keyed = assign_thread_keys(records.values())
    return len(records), len({r.thread_key for r in keyed})


# Dates a reader cannot use: words, a day June lacks, ISO 8601 instead of RFC 5322,
# an hour past 23, nothing at all.
MALFORMED_DATES = [
    "not a date at all",
    "Tue, 31 Jun 2026 10:00:00 +0000",
    "2026-11-02T08:00:00Z",
    "Mon, 2 Nov 2026 25:61:00 +0000",
    "",
]
