"""Running `python -m core` as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in `cwd` with only PATH, DATA_DIR=cwd/data and `env` set."""
    base = {"PATH": os.environ.get("PATH", ""), "DATA_DIR": str(cwd / "data")}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        env=base | (env or {}),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
