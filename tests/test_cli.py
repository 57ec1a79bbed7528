"""CLI conventions shared by every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import crypto
from tests.cli_support import run_cli


def test_db_upgrade_then_current_reports_head_as_json(tmp_path: Path) -> None:
    upgrade = run_cli(tmp_path, "db", "upgrade", "--json")
    current = run_cli(tmp_path, "db", "current", "--json")

    assert upgrade.returncode == 0, upgrade.stderr
    assert json.loads(current.stdout)["at_head"] is True
    assert json.loads(current.stdout)["revision"] == json.loads(upgrade.stdout)["head"]


def test_unknown_command_is_bad_input_in_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "frobnicate")

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "frobnicate" in result.stderr


def test_gen_key_prints_a_usable_fernet_key(tmp_path: Path) -> None:
    key = run_cli(tmp_path, "gen-key").stdout.strip()

    checked = run_cli(tmp_path, "checks", "--json")
    with_key = run_cli(tmp_path, "checks", "--json", env={"SECRET_KEY": key})

    assert len(key) == 44
    assert checked.returncode == 0 and with_key.returncode == 0, with_key.stderr
    assert "google_client_missing" in {c["id"] for c in json.loads(with_key.stdout)}


@pytest.mark.parametrize(
    ("url", "status", "line"),
    [
        ("sqlite:///", 2, "error: DATABASE_URL: a SQLite URL must name a file"),
        (
            "sqlite:////nonexistent-mailcron/dir/x.db",
            2,
            "error: DATABASE_URL: the folder /nonexistent-mailcron/dir does not exist",
        ),
        ("sqlite:////etc/passwd", 1, "file is not a database"),
        (
            "postgresql+psycopg://u:p@127.0.0.1:1/db",
            1,
            "error: the database cannot be used: connection failed",
        ),
    ],
)
def test_an_unusable_database_is_one_line_and_creates_nothing(
    tmp_path: Path, url: str, status: int, line: str
) -> None:
    env = {"DATABASE_URL": url, "SECRET_KEY": crypto.new_key()}

    result = run_cli(tmp_path, "cron", "list", env=env)

    assert result.returncode == status
    assert result.stderr.count("\n") == 1 and line in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not Path("/nonexistent-mailcron").exists()


def test_a_closed_pipe_ends_the_command_without_a_traceback(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE)
    env = {"PATH": os.environ.get("PATH", ""), "DATA_DIR": str(tmp_path / "data")}

    # Far more output than a pipe holds, so writing goes on after `head` left.
    writer = subprocess.run(
        [sys.executable, "-m", "core", "parse", *_many_files(tmp_path)],
        env=env,
        cwd=tmp_path,
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    reader.communicate()

    assert "Traceback" not in writer.stderr and "BrokenPipe" not in writer.stderr
    assert writer.returncode == 1


def _many_files(folder: Path) -> list[str]:
    body = "word " * 2000
    paths = []
    for number in range(40):
        path = folder / f"m{number}.eml"
        path.write_text(f"From: a@example.org\nSubject: s{number}\n\n{body}\n")
        paths.append(str(path))
    return paths
