"""Running `python -m core` as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from core.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A cron as `--json` and the HTTP API give it: the contract scripts rely on.
CRON_KEYS = {
    "user_id",
    "cron_id",
    "email",
    "status",
    "schedule",
    "description",
    "timezone",
    "next_run",
    "tenant_status",
    "pause_reason",
    "resume_at",
}


def run_cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in `cwd` with only PATH, DATA_DIR=cwd/data and `env` set.

    No developer's .env or shell settings leak in.
    """
    base = {"PATH": os.environ.get("PATH", ""), "DATA_DIR": str(cwd / "data")}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        env=base | (env or {}),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that points a command at the test's database and key."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        **extra,
    }


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI on the test's database, from the folder above its data."""
    cwd = settings.data_dir.parent
    return run_cli(cwd, *args, env=cli_env(settings), timeout=60)


def cli_json(settings: Settings, *args: str) -> Any:
    """The command's JSON output; fails the test when it did not exit 0."""
    result = cli(settings, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cli_many(
    settings: Settings, *commands: tuple[str, ...]
) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands at once: each pays the interpreter's start-up."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: cli(settings, *args), commands))


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one `error:` line of a refused command (log lines may precede it)."""
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    return line


def record_lines(stdout: str) -> dict[str, str]:
    """The `label: value` lines of a readable record, as a dict."""
    pairs = (line.split(":", 1) for line in stdout.splitlines() if ":" in line)
    return {label.strip(): value.strip() for label, value in pairs}
