"""The scheduler as the health page shows it, for an admin and for a tenant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from core import cron_expr, crons, scheduler
from core.scheduler_view import scheduler_view
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.console.seed import add_cron, add_run_row
from tests.sched_helpers import no_work


@pytest.fixture
def running(sqlite_settings: Settings) -> Iterator[scheduler.Scheduler]:
    add_cron(sqlite_settings, "ann", "*/5 * * * *")
    add_cron(sqlite_settings, "bob", "*/2 * * * *")
    add_cron(sqlite_settings, "cat", "0 9 1 1 *")
    started = scheduler.Scheduler(sqlite_settings, work=no_work).start()
    yield started
    started.shutdown(timeout=5)


def _expected(
    settings: Settings, now: datetime, *names: str
) -> list[tuple[str, datetime]]:
    """The next ten start times of these tenants' crons, each with its offset."""
    fires = []
    for name in names:
        cron = crons.get_cron(user_id=name, viewer=Viewer.admin(), settings=settings)
        offset = timedelta(
            seconds=cron_expr.start_offset(
                cron.cron_id, cron.schedule, settings.tick_spread_seconds
            )
        )
        nominal = cron_expr.next_fire_times(cron.schedule, "UTC", now - offset, 10)
        fires += [(when + offset, name) for when in nominal]
    return [(name, when) for when, name in sorted(fires)[:10]]


def test_admin_sees_the_next_ten_fires_across_tenants(
    running: scheduler.Scheduler,
) -> None:
    now = utcnow()

    view = scheduler_view(scheduler=running, viewer=Viewer.admin())

    expected = _expected(running.settings, now, "ann", "bob")
    assert view.next_fires == expected
    assert (view.role, view.entries) == ("leader", 3)
    assert view.holder == running.holder


def test_tenant_sees_only_their_own_fires(running: scheduler.Scheduler) -> None:
    now = utcnow()

    view = scheduler_view(scheduler=running, viewer=Viewer.tenant("ann"))

    assert view.next_fires == _expected(running.settings, now, "ann")
    assert (view.entries, view.holder) == (1, "")


@pytest.fixture
def two_schedulers(
    sqlite_settings: Settings,
) -> Iterator[tuple[scheduler.Scheduler, scheduler.Scheduler]]:
    """Two schedulers on one database, as two processes would run: the first
    started leads, the second stands by."""
    add_cron(sqlite_settings, "ann", "0 9 1 1 *")
    leader = scheduler.Scheduler(sqlite_settings, work=no_work, holder="proc-a")
    standby = scheduler.Scheduler(sqlite_settings, work=no_work, holder="proc-b")
    yield leader.start(), standby.start()
    standby.shutdown(timeout=5)
    leader.shutdown(timeout=5)


def test_second_scheduler_on_the_same_database_stands_by(
    two_schedulers: tuple[scheduler.Scheduler, scheduler.Scheduler],
) -> None:
    leader, standby = two_schedulers

    led = scheduler_view(scheduler=leader, viewer=Viewer.admin())
    stood = scheduler_view(scheduler=standby, viewer=Viewer.admin())
    as_ann = scheduler_view(scheduler=standby, viewer=Viewer.tenant("ann"))

    assert (led.role, led.holder) == ("leader", "proc-a")
    assert (stood.role, stood.holder) == ("standby", "proc-a")
    assert (as_ann.role, as_ann.holder) == ("standby", "")


@pytest.fixture
def started_at(
    sqlite_settings: Settings,
) -> Iterator[tuple[scheduler.Scheduler, datetime]]:
    """A started scheduler and the moment just before it started."""
    before = utcnow()
    started = scheduler.Scheduler(sqlite_settings, work=no_work).start()
    yield started, before
    started.shutdown(timeout=5)


def test_view_shows_the_last_heartbeat(
    started_at: tuple[scheduler.Scheduler, datetime],
) -> None:
    started, before = started_at

    view = scheduler_view(scheduler=started, viewer=Viewer.admin())

    after = utcnow()
    assert view.last_heartbeat is not None
    assert before <= view.last_heartbeat <= after


# (tenant, minutes ago, kind) of skipped ticks: per tenant, different counts.
SKIPS = [
    ("ann", 5, "missed"),
    ("ann", 10, "overlap"),
    ("ann", 15, "overlap"),
    ("ann", 90, "missed"),
    ("bob", 5, "missed"),
    ("bob", 10, "missed"),
    ("bob", 20, "missed"),
    ("bob", 25, "overlap"),
]


def test_view_counts_missed_and_skipped_ticks_of_the_last_hour(
    sqlite_settings: Settings, running: scheduler.Scheduler
) -> None:
    now = utcnow()
    for user_id, minutes, kind in SKIPS:
        started = now - timedelta(minutes=minutes)
        add_run_row(sqlite_settings, user_id, started, "skipped", kind=kind)

    admin = scheduler_view(scheduler=running, viewer=Viewer.admin())
    ann = scheduler_view(scheduler=running, viewer=Viewer.tenant("ann"))
    bob = scheduler_view(scheduler=running, viewer=Viewer.tenant("bob"))

    assert (admin.missed_last_hour, admin.skipped_last_hour) == (4, 3)
    assert (ann.missed_last_hour, ann.skipped_last_hour) == (1, 2)
    assert (bob.missed_last_hour, bob.skipped_last_hour) == (3, 1)
