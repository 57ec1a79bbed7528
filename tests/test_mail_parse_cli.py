"""`python -m core parse FILE... [--json]`."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.cli import main
from tests.cli_support import PROJECT_ROOT, run_cli
from tests.mail_support import make_message


def _write(folder: Path, name: str, raw: bytes) -> Path:
    path = folder / name
    path.write_bytes(raw)
    return path


def test_parse_json_prints_one_object_per_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _write(
        tmp_path, "root.eml", make_message(subject="Plan", message_id="<p@x>")
    )
    reply = _write(
        tmp_path,
        "reply.eml",
        make_message(subject="Re: Plan", message_id="<q@x>", in_reply_to="<p@x>"),
    )

    code = main(["parse", str(root), str(reply), "--json"])

    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [row["file"] for row in rows] == [str(root), str(reply)]
    assert rows[1]["subject"] == "Re: Plan"
    assert rows[1]["in_reply_to"] == "<p@x>" and rows[1]["references"] == ["<p@x>"]
    assert rows[0]["thread_key"] == rows[1]["thread_key"]
    assert rows[0]["from_address"] == "alice@example.org"
    assert rows[0]["error"] is None
    assert set(rows[0]) == {
        "file", "message_id", "thread_key", "subject", "from_name", "from_address",
        "to", "cc", "date", "body", "attachments", "in_reply_to", "references", "error",
    }  # fmt: skip


def test_parse_bad_file_gets_error_and_exit_2_others_still_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, "good.eml", make_message(subject="Fine"))
    empty = _write(tmp_path, "empty.eml", b"")
    missing = tmp_path / "missing.eml"

    code = main(["parse", str(good), str(empty), str(missing), "--json"])

    rows = json.loads(capsys.readouterr().out)
    assert code == 2
    assert rows[0]["subject"] == "Fine" and rows[0]["error"] is None
    assert "empty" in rows[1]["error"]
    assert "cannot read" in rows[2]["error"] and rows[2]["subject"] is None


def test_parse_bad_files_get_one_stderr_line_each_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, "good.eml", make_message(subject="Fine"))
    binary = _write(tmp_path, "photo.eml", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    missing = tmp_path / "missing.eml"

    code = main(["parse", str(good), str(binary), str(missing), "--json"])

    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert code == 2
    assert rows[0]["subject"] == "Fine"
    assert captured.err.splitlines() == [
        f"error: {rows[1]['error']}",
        f"error: {rows[2]['error']}",
    ]
    assert str(binary) in rows[1]["error"] and "(unnamed)" not in rows[1]["error"]
    assert str(missing) in rows[2]["error"]


def test_parse_text_output_keeps_the_error_and_repeats_it_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, "good.eml", make_message(subject="Fine"))
    empty = _write(tmp_path, "empty.eml", b"")

    code = main(["parse", str(empty), str(good)])

    captured = capsys.readouterr()
    assert code == 2
    assert "subject:      Fine" in captured.out
    assert f"error: Message {empty} could not be read: the message is empty" in (
        captured.out
    )
    assert captured.err == (
        f"error: Message {empty} could not be read: the message is empty\n"
    )


def test_parse_text_output_says_when_the_date_is_the_file_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    undated = _write(tmp_path, "undated.eml", make_message(subject="No date"))
    os.utime(undated, (MTIME.timestamp(), MTIME.timestamp()))
    dated = _write(tmp_path, "dated.eml", make_message(subject="Dated", date=MTIME))

    code = main(["parse", str(undated), str(dated)])

    dates = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("date:")
    ]
    assert code == 0
    assert dates == [
        "date:         2026-11-02T08:00:00+00:00 (no Date header; file time)",
        "date:         2026-11-02T08:00:00+00:00",
    ]


def test_parse_text_output_says_when_an_unreadable_date_gave_way_to_the_file_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = b"From: a@example.org\r\nSubject: x\r\nDate: soon\r\n\r\nHi.\r\n"
    path = _write(tmp_path, "soon.eml", raw)
    os.utime(path, (MTIME.timestamp(), MTIME.timestamp()))

    main(["parse", str(path)])

    out = capsys.readouterr().out
    assert "2026-11-02T08:00:00+00:00 (unreadable Date header; file time)" in out


def test_parse_text_output_shows_fields_and_attachments(
    mail_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = mail_data / "tricky" / "flanker__attached-pdf.eml"

    code = main(["parse", str(path)])

    out = capsys.readouterr().out
    assert code == 0
    assert "subject:      test message via curl" in out
    assert "test.pdf (6940 bytes)" in out
    assert "Test - body content" in out
    assert "Traceback" not in out


# --- as a user runs it: `python -m core parse FILE... --json` --------------------

ISO_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
MTIME = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
# The file has no Date header at all.
UNDATED = "flanker__encoded-header.eml"
# Its Date is "Wed, 20 Sep 1995 00:19:00 (EDT) -0400": a comment before the zone.
COMMENTED = "flanker__disposition-notification.eml"

# file in tricky/, its Date as ISO 8601, its attachments exactly
DATED = [
    (
        "flanker__russian-attachment-yahoo.eml",
        "2012-06-29T05:06:37-07:00",
        # Yahoo cut the UTF-8 name mid-character; the broken end reads as U+FFFD.
        [
            {
                "name": "Картинка с очень, очень длинным предлинным именем "
                "преименем таким чт\ufffd",
                "size": 178213,
            }
        ],
    ),
    (
        "flanker__attached-pdf.eml",
        "2014-06-04T13:50:00-04:00",
        [{"name": "test.pdf", "size": 6940}],
    ),
    (
        "enmime__mail__mime-bad-8bit-filename.eml",
        "2021-02-22T13:29:24+08:00",
        [{"name": "管理.doc", "size": 7}],
    ),
    (
        "enmime__mail__mime-unquoted-tspecials-param.eml",
        "2015-06-12T23:24:01+01:00",
        [{"name": "Invoice_(302232133150612).pdf", "size": 524}],
    ),
]


@pytest.fixture(scope="module")
def rows_by_name(
    mail_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict]:
    """One run of the command on every file below, as a subprocess."""
    folder = tmp_path_factory.mktemp("parse")
    undated = folder / UNDATED
    shutil.copyfile(mail_data / "tricky" / UNDATED, undated)
    os.utime(undated, (MTIME.timestamp(), MTIME.timestamp()))
    names = [name for name, _, _ in DATED] + [COMMENTED]
    files = [str(mail_data / "tricky" / name) for name in names] + [str(undated)]

    result = run_cli(
        folder, "parse", *files, "--json", env={"PYTHONPATH": str(PROJECT_ROOT)}
    )

    assert result.returncode == 0, result.stderr
    return {Path(row["file"]).name: row for row in json.loads(result.stdout)}


@pytest.mark.parametrize(("name", "date", "attachments"), DATED)
def test_parse_json_command_gives_iso_date_with_offset_and_attachments(
    rows_by_name: dict[str, dict], name: str, date: str, attachments: list[dict]
) -> None:
    row = rows_by_name[name]

    assert ISO_WITH_OFFSET.fullmatch(row["date"])
    assert row["date"] == date
    assert row["attachments"] == attachments


def test_parse_json_command_dates_a_file_without_date_by_its_mtime_in_utc(
    rows_by_name: dict[str, dict],
) -> None:
    row = rows_by_name[UNDATED]

    assert row["date"] == "2026-11-02T08:00:00+00:00"
    assert row["subject"] == "hello" and row["attachments"] == []


def test_parse_json_command_keeps_the_zone_written_after_a_comment(
    rows_by_name: dict[str, dict],
) -> None:
    row = rows_by_name[COMMENTED]

    assert row["date"] == "1995-09-20T00:19:00-04:00"
