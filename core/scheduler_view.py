"""The scheduler as a viewer may see it: its role, entries and upcoming fires.

An admin sees the whole process scheduler; a tenant viewer sees only their own
entry, fires and skipped ticks, never other tenants' names.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, func, select

from core.db import session_scope
from core.models import JobRun
from core.scheduler import Scheduler
from core.timeutil import utcnow
from core.viewer import Viewer

UPCOMING = 10


@dataclass
class SchedulerView:
    role: str
    holder: str
    last_heartbeat: datetime | None
    entries: int
    missed_last_hour: int
    skipped_last_hour: int
    next_fires: list[tuple[str, datetime]] = field(default_factory=list)


def scheduler_view(*, scheduler: Scheduler, viewer: Viewer) -> SchedulerView:
    """What the Scheduler & health page shows this viewer."""
    status = scheduler.status()
    jobs = [
        job
        for job in scheduler.aps.get_jobs()
        if job.next_run_time is not None and viewer.may_see(job.name)
    ]
    if viewer.is_admin:
        missed, skipped = status.missed_last_hour, status.skipped_last_hour
    else:
        missed, skipped = _own_skips(scheduler, viewer)
    return SchedulerView(
        role=status.role,
        holder=status.holder if viewer.is_admin else "",
        last_heartbeat=status.last_heartbeat,
        entries=status.entries if viewer.is_admin else len(jobs),
        missed_last_hour=missed,
        skipped_last_hour=skipped,
        next_fires=next_fires(jobs, UPCOMING),
    )


def next_fires(jobs: list, count: int) -> list[tuple[str, datetime]]:  # type: ignore[type-arg]
    """The next `count` fire times across the jobs, earliest first.

    A heap of each job's next time: only `count` further times are computed,
    however many thousand jobs there are."""
    # Ties (two tenants at the same minute) come out by tenant name.
    heap = [(job.next_run_time, job.name, n, job) for n, job in enumerate(jobs)]
    heapq.heapify(heap)
    found: list[tuple[str, datetime]] = []
    while heap and len(found) < count:
        when, name, n, job = heapq.heappop(heap)
        found.append((name, when))
        later = job.trigger.get_next_fire_time(when, when)
        if later is not None:
            heapq.heappush(heap, (later, name, n, job))
    return found


def _own_skips(scheduler: Scheduler, viewer: Viewer) -> tuple[int, int]:
    since = utcnow() - timedelta(hours=1)
    query = (
        select(JobRun.error_kind, func.count())
        .where(
            JobRun.user_id == viewer.user_id,
            JobRun.status == "skipped",
            col(JobRun.started_at) >= since,
        )
        .group_by(JobRun.error_kind)
    )
    with session_scope(scheduler.settings) as session:
        counts = dict(session.exec(query).all())
    missed = counts.pop("missed", 0)
    return missed, sum(counts.values())
