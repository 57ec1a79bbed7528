"""Metrics on a seeded database return exactly the seeded counts and times."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from core import db, metrics
from core.models import JobRun, Thread, User
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer

NOW = utcnow().replace(second=30, microsecond=0)
MINUTE_A = NOW - timedelta(minutes=10)
MINUTE_B = NOW - timedelta(minutes=5)

# (tenant, minute, status, duration)
SEEDED_RUNS = [
    ("ann", MINUTE_A, "ok", 1.0),
    ("ann", MINUTE_A, "ok", 2.0),
    ("ann", MINUTE_A, "error", 3.0),
    ("ann", MINUTE_A, "ok", 4.0),
    ("bob", MINUTE_B, "ok", 10.0),
    ("bob", MINUTE_B, "timeout", 20.0),
    ("bob", MINUTE_B, "skipped", None),
    ("cat", NOW - timedelta(hours=3), "error", 5.0),
]


def _seed(settings: Settings) -> None:
    with db.session_scope(settings) as session:
        for user_id, status in (
            ("ann", "active"),
            ("bob", "active"),
            ("cat", "needs_reauth"),
        ):
            session.add(
                User(user_id=user_id, email=f"{user_id}@example.com", status=status)
            )
        for i, (user_id, at, status, duration) in enumerate(SEEDED_RUNS):
            session.add(
                JobRun(
                    user_id=user_id,
                    scheduled_for=at + timedelta(microseconds=i),
                    started_at=at + timedelta(seconds=i),
                    status=status,
                    duration_s=duration,
                )
            )
        for owner, count, age in (("ann", 3, 0), ("bob", 1, 0), ("cat", 2, 30)):
            for _ in range(count):
                session.add(
                    Thread(
                        thread_id=str(uuid.uuid4()),
                        owner=owner,
                        source_thread_id=str(uuid.uuid4()),
                        created_at=NOW - timedelta(hours=age),
                    )
                )


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    _seed(settings)
    return settings


ADMIN = Viewer.admin()


def test_tenants_by_status_counts_each_status(seeded: Settings) -> None:
    frame = metrics.tenants_by_status(viewer=ADMIN, settings=seeded)

    assert dict(zip(frame.status, frame.tenants, strict=True)) == {
        "active": 2,
        "needs_reauth": 1,
    }


def test_window_summary_counts_runs_errors_and_threads(seeded: Settings) -> None:
    hour = metrics.window_summary(
        viewer=ADMIN, since=NOW - timedelta(hours=1), settings=seeded
    )
    day = metrics.window_summary(
        viewer=ADMIN, since=NOW - timedelta(days=1), settings=seeded
    )

    assert (hour.runs, hour.errors, hour.threads_created) == (6, 2, 4)
    assert hour.error_rate == pytest.approx(2 / 6)
    assert (day.runs, day.errors, day.threads_created) == (7, 3, 4)


def test_runs_per_minute_stacks_by_status(seeded: Settings) -> None:
    frame = metrics.runs_per_minute(
        viewer=ADMIN, since=NOW - timedelta(hours=1), settings=seeded
    )

    got = {(row.minute.minute, row.status): row.runs for row in frame.itertuples()}
    assert got == {
        (MINUTE_A.minute, "ok"): 3,
        (MINUTE_A.minute, "error"): 1,
        (MINUTE_B.minute, "ok"): 1,
        (MINUTE_B.minute, "timeout"): 1,
        (MINUTE_B.minute, "skipped"): 1,
    }
    assert str(frame.minute.dt.tz) == "UTC"


def test_duration_percentiles_use_nearest_rank(seeded: Settings) -> None:
    frame = metrics.duration_percentiles(
        viewer=ADMIN, since=NOW - timedelta(hours=1), settings=seeded
    )

    rows = [(r.minute.minute, r.p50, r.p95) for r in frame.itertuples()]
    assert rows == [(MINUTE_A.minute, 2.0, 4.0), (MINUTE_B.minute, 10.0, 20.0)]


def test_error_rate_by_tenant_lists_the_worst_first(seeded: Settings) -> None:
    frame = metrics.error_rate_by_tenant(
        viewer=ADMIN, since=NOW - timedelta(days=1), settings=seeded
    )

    assert list(frame.user_id) == ["cat", "bob", "ann"]
    assert list(frame.runs) == [1, 2, 4]
    assert list(frame.error_rate) == [1.0, 0.5, 0.25]


FAILURES = ("error", "timeout", "abandoned")


def _seed_failing_tenants(settings: Settings) -> None:
    """t01..t12: tenant tNN failed NN of its 12 runs today; zed never failed.

    Noise that must not count: t01's 30 errors are two days old and t02's 20
    skipped ticks are neither runs nor failures; either would lift them into
    the worst ten."""
    rows = []
    for n in range(1, 13):
        statuses = [FAILURES[i % 3] for i in range(n)] + ["ok"] * (12 - n)
        rows += [(f"t{n:02}", NOW - timedelta(minutes=1), s) for s in statuses]
    rows += [("zed", NOW - timedelta(minutes=1), "ok")] * 12
    rows += [("t01", NOW - timedelta(days=2), "error")] * 30
    rows += [("t02", NOW - timedelta(minutes=2), "skipped")] * 20
    with db.session_scope(settings) as session:
        for user_id, at, status in rows:
            session.add(
                JobRun(user_id=user_id, scheduled_for=at, started_at=at, status=status)
            )


def test_error_rate_by_tenant_returns_exactly_the_worst_ten(
    settings: Settings,
) -> None:
    _seed_failing_tenants(settings)

    frame = metrics.error_rate_by_tenant(
        viewer=ADMIN, since=NOW - timedelta(days=1), settings=settings
    )

    worst = range(12, 2, -1)
    assert list(frame.user_id) == [f"t{n:02}" for n in worst]
    assert list(frame.errors) == list(worst)
    assert list(frame.runs) == [12] * 10
    assert list(frame.error_rate) == pytest.approx([n / 12 for n in worst])


def test_threads_per_tenant_counts_created_threads(seeded: Settings) -> None:
    ever = metrics.threads_per_tenant(viewer=ADMIN, settings=seeded)
    today = metrics.threads_per_tenant(
        viewer=ADMIN, since=NOW - timedelta(days=1), settings=seeded
    )

    assert dict(zip(ever.user_id, ever.threads, strict=True)) == {
        "ann": 3,
        "cat": 2,
        "bob": 1,
    }
    assert dict(zip(today.user_id, today.threads, strict=True)) == {"ann": 3, "bob": 1}


def test_a_tenant_viewer_counts_only_their_own_rows(seeded: Settings) -> None:
    bob = Viewer.tenant("bob")

    summary = metrics.window_summary(
        viewer=bob, since=NOW - timedelta(days=1), settings=seeded
    )
    worst = metrics.error_rate_by_tenant(
        viewer=bob, since=NOW - timedelta(days=1), settings=seeded
    )
    tenants = metrics.tenants_by_status(viewer=bob, settings=seeded)

    assert (summary.runs, summary.errors, summary.threads_created) == (2, 1, 1)
    assert list(worst.user_id) == ["bob"]
    assert list(tenants.tenants) == [1]


def test_empty_database_gives_empty_frames_with_columns(settings: Settings) -> None:
    result = metrics.overview(viewer=ADMIN, settings=settings)

    assert list(result["runs_per_minute"].columns) == ["minute", "status", "runs"]
    assert result["durations"].empty and result["threads"].empty
    assert result["last_hour"].runs == 0 and result["last_hour"].error_rate == 0.0
