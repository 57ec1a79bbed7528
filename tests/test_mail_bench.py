"""The mail benchmark's smoke run prints its figures and holds the quota ratio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT


def test_bench_smoke_prints_figures_within_quota_ratio(mail_data: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "bench/bench_mail.py",
            "--smoke",
            "--mail-data",
            str(mail_data),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "msgs/s over 40 messages" in result.stdout
    assert "per idle tick                2.0     5.0" in result.stdout
    assert "must be at most 0.50" in result.stdout
