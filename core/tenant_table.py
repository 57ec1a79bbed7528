"""The console's tenants table: one page of tenants with their cron and recent runs.

Built for 10,000 tenants and a million runs: the page of tenants is chosen first
(filter, order, offset, limit), then the per-tenant figures are computed for those
few user ids only, through the (user_id, started_at) and (owner, created_at)
indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core import cron_expr, db
from core.errors import InvalidInput
from core.metrics import COUNTED_STATUSES, FAILED_STATUSES
from core.models import JobRun, Thread, User, UserCron
from core.settings import Settings, get_settings
from core.timeutil import utcnow
from core.viewer import Viewer

users = User.__table__  # type: ignore[attr-defined]
user_crons = UserCron.__table__  # type: ignore[attr-defined]
runs = JobRun.__table__  # type: ignore[attr-defined]
threads = Thread.__table__  # type: ignore[attr-defined]

# One filter over both statuses: what an admin asks ("which ones are paused?").
STATUS_FILTERS = ("active", "paused", "no_cron", "needs_reauth", "disabled")
MAX_PAGE = 200
COLUMNS = [
    "user_id",
    "email",
    "mail_source",
    "tenant_status",
    "cron_status",
    "pause_reason",
    "resume_at",
    "schedule",
    "description",
    "timezone",
    "start_offset_s",
    "next_run",
    "last_run_status",
    "last_run_at",
    "last_run_duration_s",
    "runs_24h",
    "threads_24h",
    "error_rate_24h",
]


@dataclass(frozen=True)
class TenantPage:
    """One page of the table and how many rows match in all."""

    rows: pd.DataFrame
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total


def _filtered(
    query: sa.Select, viewer: Viewer, search: str | None, status: str | None
) -> sa.Select:
    if not viewer.is_admin:
        query = query.where(users.c.user_id == viewer.user_id)
    if search:
        query = query.where(
            users.c.email.contains(search.strip().casefold(), autoescape=True)
        )
    if status == "paused":
        query = query.where(user_crons.c.status == "paused")
    elif status == "active":
        query = query.where(users.c.status == "active", user_crons.c.status == "active")
    elif status == "no_cron":
        query = query.where(user_crons.c.id.is_(None))
    elif status:
        query = query.where(users.c.status == status)
    return query


def tenant_page(
    *,
    viewer: Viewer,
    search: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 25,
    settings: Settings | None = None,
) -> TenantPage:
    """Tenants the viewer may see, by user id, with their cron and 24 h figures.

    `search` matches part of the email; `status` is one of STATUS_FILTERS."""
    if status is not None and status not in STATUS_FILTERS:
        raise InvalidInput(
            f"Unknown status filter {status!r}; use one of {', '.join(STATUS_FILTERS)}."
        )
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"Offset must be 0 or more and limit 1 to {MAX_PAGE}.")
    joined = users.outerjoin(user_crons, user_crons.c.user_id == users.c.user_id)
    page_query = _filtered(
        sa.select(
            users.c.user_id,
            users.c.email,
            users.c.mail_source,
            users.c.status.label("tenant_status"),
            user_crons.c.status.label("cron_status"),
            user_crons.c.pause_reason,
            user_crons.c.resume_at,
            user_crons.c.cron_id,
            user_crons.c.schedule,
            user_crons.c.timezone,
        ).select_from(joined),
        viewer,
        search,
        status,
    )
    count_query = _filtered(
        sa.select(sa.func.count()).select_from(joined), viewer, search, status
    )

    now = utcnow()
    with db.get_engine(settings).connect() as conn:
        total = conn.execute(count_query).scalar_one()
        page = conn.execute(
            page_query.order_by(users.c.user_id).offset(offset).limit(limit)
        ).all()
        ids = [row.user_id for row in page]
        last = _last_runs(conn, ids)
        day = _day_figures(conn, ids, now - timedelta(days=1))
    spread = (settings or get_settings()).tick_spread_seconds
    records = [_record(row, last, day, now, spread) for row in page]
    frame = pd.DataFrame(records, columns=COLUMNS)
    return TenantPage(rows=frame, total=int(total), offset=offset, limit=limit)


def _last_runs(conn: Connection, ids: list[str]) -> dict[str, sa.Row]:
    """Each tenant's newest run, one indexed lookup per tenant on the page."""
    found: dict[str, sa.Row] = {}
    for user_id in ids:
        row = conn.execute(
            sa.select(runs.c.status, runs.c.started_at, runs.c.duration_s)
            .where(runs.c.user_id == user_id)
            .order_by(runs.c.started_at.desc(), runs.c.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            found[user_id] = row
    return found


def _day_figures(
    conn: Connection, ids: list[str], since: datetime
) -> dict[str, tuple[int, int, int]]:
    """(counted runs, failed runs, threads created) per tenant since a moment."""
    if not ids:
        return {}
    failed = sa.func.sum(sa.case((runs.c.status.in_(FAILED_STATUSES), 1), else_=0))
    run_rows = conn.execute(
        sa.select(runs.c.user_id, sa.func.count(), failed)
        .where(
            runs.c.user_id.in_(ids),
            runs.c.started_at >= since,
            runs.c.status.in_(COUNTED_STATUSES),
        )
        .group_by(runs.c.user_id)
    ).all()
    thread_rows = conn.execute(
        sa.select(threads.c.owner, sa.func.count())
        .where(threads.c.owner.in_(ids), threads.c.created_at >= since)
        .group_by(threads.c.owner)
    ).all()
    created = {owner: int(count) for owner, count in thread_rows}
    counted = {uid: (int(n), int(bad or 0)) for uid, n, bad in run_rows}
    return {uid: (*counted.get(uid, (0, 0)), created.get(uid, 0)) for uid in ids}


def _record(
    row: sa.Row,
    last: dict[str, sa.Row],
    day: dict[str, tuple[int, int, int]],
    now: datetime,
    spread: int,
) -> dict[str, object]:
    last_run = last.get(row.user_id)
    counted, failed, created = day.get(row.user_id, (0, 0, 0))
    offset = None
    if row.schedule:
        offset = cron_expr.start_offset(row.cron_id, row.schedule, spread)
    next_run = _next_run(row, now)
    return {
        "user_id": row.user_id,
        "email": row.email,
        "mail_source": row.mail_source,
        "tenant_status": row.tenant_status,
        "cron_status": row.cron_status or "no cron",
        "pause_reason": row.pause_reason,
        "resume_at": _aware(row.resume_at),
        "schedule": row.schedule,
        "description": cron_expr.describe(row.schedule) if row.schedule else None,
        "timezone": row.timezone,
        "start_offset_s": offset,
        # When the tick really starts: the nominal time plus the cron's offset.
        "next_run": next_run + timedelta(seconds=offset or 0) if next_run else None,
        "last_run_status": last_run.status if last_run else None,
        "last_run_at": _aware(last_run.started_at) if last_run else None,
        "last_run_duration_s": last_run.duration_s if last_run else None,
        "runs_24h": counted,
        "threads_24h": created,
        "error_rate_24h": failed / counted if counted else 0.0,
    }


def _aware(value: datetime | None) -> datetime | None:
    # Stored times are UTC; a driver handing back a naive one still means UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _next_run(row: sa.Row, now: datetime) -> datetime | None:
    if row.cron_status != "active" or not row.schedule:
        if row.cron_status == "paused" and row.resume_at is not None:
            start = max(now, _aware(row.resume_at) or now)
            return _first_fire(row.schedule, row.timezone, start)
        return None
    return _first_fire(row.schedule, row.timezone, now)


def _first_fire(schedule: str, timezone: str, after: datetime) -> datetime | None:
    fires = cron_expr.next_fire_times(schedule, timezone, after, 1)
    return fires[0] if fires else None
