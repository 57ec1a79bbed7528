"""The console benchmark's smoke run seeds, times and prints its figures."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_bench_smoke_prints_every_figure_under_the_limit() -> None:
    result = subprocess.run(
        [sys.executable, "bench/bench_console.py", "--smoke"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[0].startswith("seeded 200 tenants, 20,000 runs over 1 day(s)")
    assert [line[:28].strip() for line in lines[1:6]] == [
        "overview (all queries)",
        "tenants table, first page",
        "tenants table, last page",
        "tenants table, search",
        "tenants table, paused",
    ]
    assert all(line.endswith(" ok") for line in lines[1:6])
