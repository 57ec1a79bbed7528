"""The folder source: new until processed, oldest first, never writes."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.errors import InvalidInput
from core.mail import source_for
from core.models import TenantInfo
from core.settings import Settings
from tests.mail_support import MALFORMED_DATES, make_message, mark_processed

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _tenant(folder: Path, release: int | None = None) -> TenantInfo:
    return TenantInfo(
        user_id="olivia",
        email="olivia@acme.example",
        mail_source="folder",
        mailbox_path=str(folder),
        release_per_tick=release,
    )


def _drop(folder: Path, name: str, hours: int, **kw: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    raw = make_message(
        date=START + timedelta(hours=hours),
        message_id=kw.pop("message_id", f"<{name}@acme.example>"),
        **kw,
    )
    (folder / name).write_bytes(raw)


def test_fetch_releases_oldest_first_by_date_not_name(
    settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    for name, hours in (("a.eml", 5), ("b.eml", 1), ("c.eml", 3), ("d.eml", 2)):
        _drop(box, name, hours)

    result = source_for(_tenant(box, release=2), settings=settings).fetch({})

    assert [m.id for m in result.messages] == [
        "<b.eml@acme.example>",
        "<d.eml@acme.example>",
    ]
    assert result.more is True


def test_fetch_skips_processed_and_picks_up_dropped_files(
    settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    _drop(box, "1.eml", 1)
    _drop(box, "2.eml", 2)
    source = source_for(_tenant(box), settings=settings)
    first = source.fetch({})
    mark_processed(settings, "olivia", *(m.id for m in first.messages))
    _drop(box, "0-new.eml", 3)

    second = source.fetch(first.next_cursor)

    assert len(first.messages) == 2
    assert [m.id for m in second.messages] == ["<0-new.eml@acme.example>"]
    assert second.more is False


def test_fetch_again_with_old_cursor_returns_unprocessed_again(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    _drop(box, "1.eml", 1)
    source = source_for(_tenant(box), settings=sqlite_settings)
    source.fetch({})

    again = source.fetch({})

    assert [m.id for m in again.messages] == ["<1.eml@acme.example>"]


def test_fetch_reads_maildir_cur_and_new_only(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "Maildir"
    _drop(box / "cur", "1700000000.1.host:2,S", 1)
    _drop(box / "new", "1700000001.2.host", 2)
    _drop(box / "tmp", "1700000002.3.host", 3)

    result = source_for(_tenant(box), settings=sqlite_settings).fetch({})

    assert len(result.messages) == 2


def test_fetch_works_on_read_only_folder_and_changes_nothing(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    _drop(box, "1.eml", 1)
    _drop(box, "2.eml", 2)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in box.iterdir())
    os.chmod(box, 0o555)

    try:
        result = source_for(_tenant(box), settings=sqlite_settings).fetch({})
    finally:
        os.chmod(box, 0o755)

    assert len(result.messages) == 2
    assert sorted((p.name, p.stat().st_mtime_ns) for p in box.iterdir()) == before


def test_fetch_uses_content_hash_without_message_id(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    box.mkdir()
    raw = b"From: a@example.org\r\nSubject: no id\r\n\r\nHello\r\n"
    (box / "x.eml").write_bytes(raw)

    result = source_for(_tenant(box), settings=sqlite_settings).fetch({})

    assert [m.id for m in result.messages] == [
        "sha256:" + hashlib.sha256(raw).hexdigest()
    ]


def test_fetch_reports_unreadable_file_and_goes_on(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    _drop(box, "good.eml", 1)
    (box / "empty.eml").write_bytes(b"")

    result = source_for(_tenant(box), settings=sqlite_settings).fetch({})

    assert len(result.messages) == 1
    assert len(result.failures) == 1
    assert "empty" in result.failures[0].reason


def test_fetch_counts_a_message_saved_twice_once(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    _drop(box, "a.eml", 1, message_id="<same@x>")
    _drop(box, "copy.eml", 1, message_id="<same@x>")

    result = source_for(_tenant(box), settings=sqlite_settings).fetch({})

    assert [m.id for m in result.messages] == ["<same@x>"]


def test_fetch_marks_mail_from_the_tenant(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    _drop(box, "in.eml", 1)
    _drop(box, "out.eml", 2, sender="Olivia <Olivia@acme.example>", to="a@example.org")

    result = source_for(_tenant(box), settings=sqlite_settings).fetch({})

    assert [m.from_self for m in result.messages] == [False, True]


def test_fetch_threads_reply_with_its_root(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    box = tmp_path / "box"
    _drop(box, "root.eml", 1, subject="Budget")
    _drop(
        box, "reply.eml", 2, subject="Re: Budget", in_reply_to="<root.eml@acme.example>"
    )

    result = source_for(_tenant(box), settings=sqlite_settings).fetch({})

    assert len({m.thread_key for m in result.messages}) == 1


def test_source_for_refuses_unknown_source_and_missing_folder(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    odd = _tenant(tmp_path).model_copy(update={"mail_source": "pop3"})
    missing = _tenant(tmp_path / "nowhere")

    with pytest.raises(InvalidInput):
        source_for(odd, settings=sqlite_settings)
    with pytest.raises(InvalidInput) as raised:
        source_for(missing, settings=sqlite_settings).fetch({})

    assert "does not exist" in str(raised.value)


@pytest.mark.parametrize("date_header", MALFORMED_DATES)
def test_fetch_dates_a_malformed_date_by_the_files_mtime(
    sqlite_settings: Settings, tmp_path: Path, date_header: str
) -> None:
    box = tmp_path / "box"
    _drop(box, "dated.eml", 2)
    undated = box / "undated.eml"
    raw = make_message(subject="Undated", message_id="<undated@acme.example>")
    undated.write_bytes(f"Date: {date_header}\n".encode() + raw)
    modified = START + timedelta(hours=1)
    os.utime(undated, (modified.timestamp(), modified.timestamp()))

    result = source_for(_tenant(box), settings=sqlite_settings).fetch({})

    first, second = result.messages
    assert (first.id, second.id) == (
        "<undated@acme.example>",
        "<dated.eml@acme.example>",
    )
    assert first.date == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert first.date.utcoffset() == timedelta(0)
    assert second.date == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
