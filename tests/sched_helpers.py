"""Helpers shared by the scheduler tests: tenants, work functions, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from core import crons, db
from core.jobs import TickOutcome
from core.models import JobRun
from core.settings import Settings

ADMIN = "admin:test"


def add_cron(settings: Settings, user_id: str, schedule: str = "* * * * *", **kw: Any):
    return crons.create_or_update_cron(
        user_id=user_id,
        email=f"{user_id}@acme.example",
        actor=ADMIN,
        schedule=schedule,
        settings=settings,
        **kw,
    )


def run_rows(settings: Settings, user_id: str | None = None) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id)
    if user_id is not None:
        query = query.where(JobRun.user_id == user_id)
    with db.session_scope(settings) as session:
        return list(session.exec(query))


def wait_until(check: Callable[[], Any], timeout: float = 8.0) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


def no_work(**_: Any) -> TickOutcome:
    return TickOutcome(emails_fetched=0, threads_created=0)


def sleeping(seconds: float) -> Callable[..., TickOutcome]:
    def work(**_: Any) -> TickOutcome:
        time.sleep(seconds)
        return TickOutcome(emails_fetched=1, threads_created=1)

    return work
