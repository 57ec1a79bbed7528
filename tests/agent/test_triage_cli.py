"""`python -m core triage FILE --user-id ID`: a dry run that stores nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import db
from core.cli import main
from core.commands.parse import FIELDS as PARSE_FIELDS
from core.mail.record_json import PARSE_KEYS
from core.models import Thread
from core.settings import Settings
from tests.agent.kit import add_tenant, record
from tests.mail_support import make_message


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        env=env,
        cwd=settings.data_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _email_file(tmp_path: Path, **overrides: object) -> Path:
    path = tmp_path / "email.json"
    path.write_text(json.dumps(record(id="m1", **overrides).as_dict()))  # type: ignore[arg-type]
    return path


def test_triage_prints_decision_rule_and_draft_as_json(
    agent_sqlite: Settings, tmp_path: Path
) -> None:
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example", name="Olivia Owner")

    result = _cli(
        agent_sqlite,
        "triage",
        str(_email_file(tmp_path)),
        "--user-id",
        "olivia",
        "--json",
    )

    decision = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert (decision["triage"], decision["rule"]) == ("respond", "direct-question")
    assert decision["draft_to"] == ["carol@partner.example"]
    assert decision["draft"].startswith("Hi Carol")


def test_triage_stores_nothing(agent_sqlite: Settings, tmp_path: Path) -> None:
    prefs = {
        "name": "Olivia",
        "rules": [{"name": "partner", "action": "ignore", "domain": "partner.example"}],
    }
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example", prefs=prefs)

    result = _cli(
        agent_sqlite, "triage", str(_email_file(tmp_path)), "--user-id", "olivia"
    )

    with db.session_scope(agent_sqlite) as session:
        threads = session.execute(sa.select(sa.func.count()).select_from(Thread))
        assert threads.scalar_one() == 0
    assert result.returncode == 0, result.stderr
    assert "decision: ignore" in result.stdout
    assert "rule:     rule:partner" in result.stdout


def test_triage_unknown_user_is_one_line_exit_2(
    agent_sqlite: Settings, tmp_path: Path
) -> None:
    result = _cli(
        agent_sqlite, "triage", str(_email_file(tmp_path)), "--user-id", "nobody"
    )

    assert result.returncode == 2
    assert result.stderr.strip() == "error: No tenant with user id 'nobody'."


def test_triage_unreadable_file_is_one_line_exit_2(
    agent_sqlite: Settings, tmp_path: Path
) -> None:
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")

    result = _cli(agent_sqlite, "triage", str(bad), "--user-id", "olivia")

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not an email record" in result.stderr


# --- the JSON record: what `parse --json` prints --------------------------------

QUESTION = make_message(
    subject="Quarterly numbers",
    sender="Carol Jones <carol@partner.example>",
    to="olivia@acme.example",
    body="Can you send me the quarterly numbers by Friday?",
    date=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
    message_id="<q1@partner.example>",
)


def _parse_json(settings: Settings, tmp_path: Path) -> str:
    eml = tmp_path / "question.eml"
    eml.write_bytes(QUESTION)
    result = _cli(settings, "parse", str(eml), "--json")
    assert result.returncode == 0, result.stderr
    return result.stdout


def _triage_json(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    path = tmp_path / "record.json"
    path.write_text(content)
    code = main(["triage", str(path), "--user-id", "olivia", "--json"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_triage_reads_what_parse_json_prints(
    agent_sqlite: Settings, tmp_path: Path
) -> None:
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example", name="Olivia Owner")
    record_json = tmp_path / "question.json"
    record_json.write_text(_parse_json(agent_sqlite, tmp_path))

    result = _cli(
        agent_sqlite, "triage", str(record_json), "--user-id", "olivia", "--json"
    )

    decision = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert (decision["triage"], decision["rule"]) == ("respond", "direct-question")
    assert decision["draft_to"] == ["carol@partner.example"]


def test_triage_reads_one_parse_row_as_a_bare_object(
    agent_sqlite: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example", name="Olivia Owner")
    [row] = json.loads(_parse_json(agent_sqlite, tmp_path))

    code, out, err = _triage_json(tmp_path, json.dumps(row), capsys)

    assert code == 0, err
    assert json.loads(out)["rule"] == "direct-question"


def test_triage_reads_a_minimal_hand_written_record(
    agent_sqlite: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example")
    content = json.dumps(
        {
            "from_address": "carol@partner.example",
            "date": "2026-11-30T09:00:00",
            "to": ["olivia@acme.example"],
            "body": "Could you confirm the date?",
            "in_reply_to": None,
        }
    )

    code, out, err = _triage_json(tmp_path, content, capsys)

    assert code == 0, err
    assert json.loads(out)["triage"] == "respond"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"a": 1}', "missing keys date, from_address; unknown key a."),
        ("[1]", "it holds a number, not an object with the keys of parse --json."),
        ('"mail"', "it holds text, not an object with the keys of parse --json."),
        (
            '{"date": "soon", "from_address": "c@p.example", "to": "o@a.example"}',
            "to must be a list of addresses; date must be an ISO 8601 time.",
        ),
        (
            '{"date": "2026-11-30T09:00Z", "from_address": null, "attachments": [1]}',
            "from_address must be text; attachments must be a list of {name, size} "
            "objects.",
        ),
        ("{not json", "it is not JSON."),
    ],
)
def test_triage_names_what_makes_json_not_a_record(
    agent_sqlite: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    problem: str,
) -> None:
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example")

    code, out, err = _triage_json(tmp_path, content, capsys)

    path = tmp_path / "record.json"
    assert code == 2 and out == ""
    assert err == f"error: {path} is not an email record: {problem}\n"


def test_triage_refuses_several_records_in_one_file(
    agent_sqlite: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example")
    [row] = json.loads(_parse_json(agent_sqlite, tmp_path))

    code, _, err = _triage_json(tmp_path, json.dumps([row, row]), capsys)

    assert code == 2
    assert err == (
        f"error: {tmp_path / 'record.json'} holds 2 records; triage takes one, "
        "as an object or an array of one.\n"
    )


def test_triage_refuses_a_parse_row_that_holds_an_error(
    agent_sqlite: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenant(agent_sqlite, "olivia", "olivia@acme.example")
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    main(["parse", str(empty), "--json"])
    parsed = capsys.readouterr().out

    code, _, err = _triage_json(tmp_path, parsed, capsys)

    [row] = json.loads(parsed)
    assert code == 2
    assert err == (
        f"error: {tmp_path / 'record.json'} is not an email record: parse could not "
        f"read {empty} ({row['error']}).\n"
    )


def test_triage_help_documents_the_json_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["triage", "--help"])

    text = " ".join(capsys.readouterr().out.split())
    assert "`python -m core parse FILE --json` prints it" in text
    assert "array of one object, or the object alone" in text
    assert "Only from_address and date (ISO 8601; read as UTC" in text
    assert "Its keys are file, message_id, thread_key," in text
    assert "Any other key is refused." in text


def test_triage_json_keys_follow_what_parse_prints() -> None:
    assert list(PARSE_KEYS) == ["file", *PARSE_FIELDS, "error"]
