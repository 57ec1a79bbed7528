"""`python -m core triage FILE --user-id ID`: a dry run that stores nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from core import db
from core.models import Thread
from core.settings import Settings
from tests.agent.kit import add_tenant, record


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
