"""Read side for the console's charts: aggregates computed in SQL, shaped for Altair.

Every function takes the viewer and counts only what that viewer may see. Results are
pandas DataFrames (or small dicts) with fixed columns, even when empty, so pages can
chart them without special cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core import db
from core.models import JobRun, Thread, User
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer

runs = JobRun.__table__  # type: ignore[attr-defined]
threads = Thread.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]

FAILED_STATUSES = ("error", "timeout", "abandoned")
# Skipped ticks did no work, so they count neither as successes nor as failures.
COUNTED_STATUSES = ("ok", *FAILED_STATUSES)


@dataclass(frozen=True)
class WindowSummary:
    runs: int
    errors: int
    threads_created: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.runs if self.runs else 0.0


def _owned(column: sa.ColumnElement[str], viewer: Viewer) -> sa.ColumnElement[bool]:
    if viewer.is_admin:
        return sa.true()
    return column == viewer.user_id


def _connect(settings: Settings | None) -> Connection:
    return db.get_engine(settings).connect()


def _minute(conn: Connection, column: sa.ColumnElement[datetime]) -> sa.ColumnElement:
    if conn.dialect.name == "postgresql":
        return sa.func.date_trunc("minute", column)
    return sa.func.strftime("%Y-%m-%d %H:%M:00", column)


def tenants_by_status(
    *, viewer: Viewer, settings: Settings | None = None
) -> pd.DataFrame:
    query = (
        sa.select(users.c.status, sa.func.count().label("tenants"))
        .where(_owned(users.c.user_id, viewer))
        .group_by(users.c.status)
        .order_by(users.c.status)
    )
    with _connect(settings) as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["status", "tenants"])


def window_summary(
    *, viewer: Viewer, since: datetime, settings: Settings | None = None
) -> WindowSummary:
    """Runs, failed runs and threads created since a moment."""
    failed = sa.case((runs.c.status.in_(FAILED_STATUSES), 1), else_=0)
    run_query = sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(failed), 0)
    ).where(
        runs.c.started_at >= since,
        runs.c.status.in_(COUNTED_STATUSES),
        _owned(runs.c.user_id, viewer),
    )
    thread_query = sa.select(sa.func.count()).where(
        threads.c.created_at >= since, _owned(threads.c.owner, viewer)
    )
    with _connect(settings) as conn:
        total, errors = conn.execute(run_query).one()
        created = conn.execute(thread_query).scalar_one()
    return WindowSummary(runs=int(total), errors=int(errors), threads_created=created)


def runs_per_minute(
    *, viewer: Viewer, since: datetime, settings: Settings | None = None
) -> pd.DataFrame:
    """Runs started per minute, one row per (minute, status), for a stacked chart."""
    with _connect(settings) as conn:
        minute = _minute(conn, runs.c.started_at).label("minute")
        query = (
            sa.select(minute, runs.c.status, sa.func.count().label("runs"))
            .where(runs.c.started_at >= since, _owned(runs.c.user_id, viewer))
            .group_by(minute, runs.c.status)
            .order_by(minute, runs.c.status)
        )
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["minute", "status", "runs"])
    frame["minute"] = pd.to_datetime(frame["minute"], utc=True)
    return frame


def duration_percentiles(
    *, viewer: Viewer, since: datetime, settings: Settings | None = None
) -> pd.DataFrame:
    """p50 and p95 run duration (seconds) per minute, nearest-rank method."""
    with _connect(settings) as conn:
        # The minute is computed once per row, and only the two ranked rows per
        # minute leave the database: tens of thousands of runs an hour stay fast.
        timed = (
            sa.select(
                _minute(conn, runs.c.started_at).label("minute"), runs.c.duration_s
            )
            .where(
                runs.c.started_at >= since,
                runs.c.duration_s.is_not(None),
                runs.c.status.in_(COUNTED_STATUSES),
                _owned(runs.c.user_id, viewer),
            )
            .subquery()
        )
        ranked = sa.select(
            timed.c.minute,
            timed.c.duration_s,
            sa.func.row_number()
            .over(partition_by=timed.c.minute, order_by=timed.c.duration_s)
            .label("rank"),
            sa.func.count().over(partition_by=timed.c.minute).label("n"),
        ).subquery()
        # ceil(p * n) in integer arithmetic, for p = 0.50 and p = 0.95.
        wanted = sa.or_(
            ranked.c.rank == (50 * ranked.c.n + 99) // 100,
            ranked.c.rank == (95 * ranked.c.n + 99) // 100,
        )
        query = sa.select(ranked).where(wanted).order_by(ranked.c.minute)
        rows = list(conn.execute(query).all())
    return _percentile_frame(rows)


def _percentile_frame(rows: Sequence[sa.Row]) -> pd.DataFrame:
    # Nearest rank: the value at rank ceil(p * n); ranks arrive from SQL.
    picked: dict[str, dict[str, float]] = {}
    for minute, duration, rank, n in rows:
        for label, p in (("p50", 0.50), ("p95", 0.95)):
            if rank == max(1, math.ceil(round(p * n, 9))):
                picked.setdefault(str(minute), {})[label] = float(duration)
    frame = pd.DataFrame(
        [{"minute": m, **values} for m, values in picked.items()],
        columns=["minute", "p50", "p95"],
    )
    frame["minute"] = pd.to_datetime(frame["minute"], utc=True)
    return frame


def error_rate_by_tenant(
    *,
    viewer: Viewer,
    since: datetime,
    limit: int = 10,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """The tenants with the highest share of failed runs, worst first."""
    failed = sa.func.sum(sa.case((runs.c.status.in_(FAILED_STATUSES), 1), else_=0))
    total = sa.func.count()
    rate = (sa.cast(failed, sa.Float) / total).label("error_rate")
    query = (
        sa.select(runs.c.user_id, total.label("runs"), failed.label("errors"), rate)
        .where(
            runs.c.started_at >= since,
            runs.c.status.in_(COUNTED_STATUSES),
            _owned(runs.c.user_id, viewer),
        )
        .group_by(runs.c.user_id)
        .order_by(rate.desc(), runs.c.user_id)
        .limit(limit)
    )
    with _connect(settings) as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["user_id", "runs", "errors", "error_rate"])


def threads_per_tenant(
    *, viewer: Viewer, since: datetime | None = None, settings: Settings | None = None
) -> pd.DataFrame:
    """Threads created per tenant (since a moment, or ever)."""
    query = (
        sa.select(threads.c.owner.label("user_id"), sa.func.count().label("threads"))
        .where(_owned(threads.c.owner, viewer), threads.c.owner.is_not(None))
        .group_by(threads.c.owner)
        .order_by(sa.func.count().desc(), threads.c.owner)
    )
    if since is not None:
        query = query.where(threads.c.created_at >= since)
    with _connect(settings) as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["user_id", "threads"])


def overview(*, viewer: Viewer, settings: Settings | None = None) -> dict[str, object]:
    """Everything the Overview page shows, in one call."""
    now = utcnow()
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    return {
        "tenants": tenants_by_status(viewer=viewer, settings=settings),
        "last_hour": window_summary(viewer=viewer, since=hour, settings=settings),
        "last_day": window_summary(viewer=viewer, since=day, settings=settings),
        "runs_per_minute": runs_per_minute(
            viewer=viewer, since=hour, settings=settings
        ),
        "durations": duration_percentiles(viewer=viewer, since=hour, settings=settings),
        "worst_tenants": error_rate_by_tenant(
            viewer=viewer, since=day, settings=settings
        ),
        "threads": threads_per_tenant(viewer=viewer, since=day, settings=settings),
    }
