"""The benchmark's smoke run: it processes a few messages of each mailbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import bench_agent


def test_bench_smoke_reports_rate_and_percentiles(
    mail_data: Path, enron_people: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = bench_agent.main(["--smoke", "--json", "--mail", str(mail_data)])

    report = json.loads(capsys.readouterr().out)
    expected = sum(
        min(len(list(p.glob("*.eml"))), bench_agent.SMOKE_PER_PERSON)
        for p in enron_people
    )
    assert status == 0
    assert report["emails"] == expected
    assert report["emails_per_second"] > 0
    assert 0 < report["p50_ms"] <= report["p99_ms"]
    assert sum(report["triage"].values()) == expected
