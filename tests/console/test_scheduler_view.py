"""The scheduler as the health page shows it, for an admin and for a tenant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import cron_expr, scheduler
from core.scheduler_view import scheduler_view
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.console.seed import add_cron
from tests.sched_helpers import no_work


@pytest.fixture
def running(sqlite_settings: Settings) -> Iterator[scheduler.Scheduler]:
    add_cron(sqlite_settings, "ann", "*/5 * * * *")
    add_cron(sqlite_settings, "bob", "*/2 * * * *")
    add_cron(sqlite_settings, "cat", "0 9 1 1 *")
    started = scheduler.Scheduler(sqlite_settings, work=no_work).start()
    yield started
    started.shutdown(timeout=5)


def _expected(now: object, *crons: tuple[str, str]) -> list[tuple[str, object]]:
    fires = [
        (when, name)
        for name, expr in crons
        for when in cron_expr.next_fire_times(expr, "UTC", now, 10)  # type: ignore[arg-type]
    ]
    return [(name, when) for when, name in sorted(fires)[:10]]


def test_admin_sees_the_next_ten_fires_across_tenants(
    running: scheduler.Scheduler,
) -> None:
    now = utcnow()

    view = scheduler_view(scheduler=running, viewer=Viewer.admin())

    expected = _expected(now, ("ann", "*/5 * * * *"), ("bob", "*/2 * * * *"))
    assert view.next_fires == expected
    assert (view.role, view.entries) == ("leader", 3)
    assert view.holder == running.holder


def test_tenant_sees_only_their_own_fires(running: scheduler.Scheduler) -> None:
    now = utcnow()

    view = scheduler_view(scheduler=running, viewer=Viewer.tenant("ann"))

    assert view.next_fires == _expected(now, ("ann", "*/5 * * * *"))
    assert (view.entries, view.holder) == (1, "")
