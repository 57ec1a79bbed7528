"""The scheduler benchmark's smoke run, so that it cannot rot."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_scheduler_benchmark_smoke_run_passes() -> None:
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "bench_scheduler.py"), "--smoke"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "missing 0" in result.stdout
    assert "200 crons: start" in result.stdout
    assert result.stdout.strip().endswith("PASS")
