"""The agent benchmark: its smoke run prints its figures, and when it fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import bench_agent
from tests.conftest import PROJECT_ROOT

FIGURES = re.compile(
    r"(?P<emails>\d+) emails in (?P<seconds>[\d.]+) s \(cpu (?P<cpu>[\d.]+) s\): "
    r"(?P<rate>[\d.]+) emails/s \(target 100\); "
    r"p50 (?P<p50>[\d.]+) ms, p99 (?P<p99>[\d.]+) ms; "
    r"fetch (?P<fetch>[\d.]+) ms/email"
)
TRIAGE = re.compile(r"triage: ((from_self|ignore|notify|respond) \d+(, )?)+")


def test_smoke_run_prints_rate_and_percentiles_and_exits_0(
    mail_data: Path, enron_people: list[Path]
) -> None:
    expected = sum(
        min(len(list(p.glob("*.eml"))), bench_agent.SMOKE_PER_PERSON)
        for p in enron_people
    )

    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_agent", "--smoke", "--mail", mail_data],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LLM_MODEL": "rules"},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    figures_line, triage_line, verdict = result.stdout.strip().splitlines()
    figures = FIGURES.fullmatch(figures_line)
    assert figures, figures_line
    assert int(figures["emails"]) == expected
    assert float(figures["rate"]) > 0
    assert 0 < float(figures["p50"]) <= float(figures["p99"])
    assert TRIAGE.fullmatch(triage_line), triage_line
    assert sum(int(n) for n in re.findall(r"\d+", triage_line)) == expected
    assert verdict == "smoke: rate positive; the 100/s target is for the full run"


@pytest.mark.parametrize(
    ("rate", "smoke", "passed"),
    [
        (99.9, False, False),
        (100.0, False, True),
        (412.5, False, True),
        (3.2, True, True),
        (0.0, True, False),
    ],
)
def test_only_the_full_run_must_reach_100_emails_per_second(
    rate: float, smoke: bool, passed: bool
) -> None:
    assert bench_agent.meets_target(rate, smoke=smoke) is passed
