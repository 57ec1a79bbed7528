"""`python -m core parse FILE... [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main
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
