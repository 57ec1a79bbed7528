"""Every shared message reads the same through the folder and the Gmail path."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.mail import source_for
from core.mail.folder import read_file
from core.mail.record import EmailRecord
from core.models import TenantInfo
from core.settings import Settings
from tests.fakes.fake_gmail import FakeGmail
from tests.mail_support import connect_tenant, gmail_settings

# Wide enough to take in 1990s mail: the whole shared set is one first sync.
ALL_OF_TIME_HOURS = 24 * 365 * 60


def _compared(record: EmailRecord) -> tuple:
    return (
        record.message_id,
        record.subject,
        record.from_name,
        record.from_address,
        record.to,
        record.cc,
        record.body,
        record.attachments,
    )


@pytest.fixture(scope="module")
def shared_files(mail_data: Path) -> list[Path]:
    return sorted(mail_data.rglob("*.eml"))


def test_every_shared_message_reads_the_same_both_ways(
    sqlite_settings: Settings,
    fake_gmail: FakeGmail,
    mail_data: Path,
    shared_files: list[Path],
) -> None:
    settings = gmail_settings(
        sqlite_settings,
        fake_gmail,
        initial_sync_hours=ALL_OF_TIME_HOURS,
        full_sync_max_messages=len(shared_files) + 10,
    )
    tenant, _ = connect_tenant(fake_gmail, settings)
    gmail_ids = fake_gmail.add_folder(tenant.email, mail_data)
    folder_tenant = TenantInfo(
        user_id="folder-reader",
        email="reader@acme.example",
        mail_source="folder",
        mailbox_path=str(mail_data),
    )

    via_gmail = source_for(tenant, settings=settings).fetch({})
    via_folder = source_for(folder_tenant, settings=settings).fetch({})

    by_gmail_id = {m.id: m for m in via_gmail.messages}
    assert set(by_gmail_id) == set(gmail_ids)
    assert via_gmail.failures == [] and via_folder.failures == []
    # Files are compared one by one: a few share a Message-ID with different
    # content, and the folder source counts one id once.
    for gmail_id, path in zip(gmail_ids, shared_files, strict=True):
        from_file = read_file(path).record
        assert from_file is not None, path
        assert _compared(by_gmail_id[gmail_id]) == _compared(from_file), path
    assert {m.id for m in via_folder.messages} == {
        read_file(path).record.id for path in shared_files
    }
