"""CLI conventions shared by every command."""

from __future__ import annotations

import json
from pathlib import Path

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
