"""Pruning closed threads and their checkpoints after THREAD_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core import crons, db, jobs, runs
from core.agent import service
from core.agent.runtime import graph_for
from core.models import JobRun, Thread
from core.scheduler import Scheduler
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record
from tests.sched_helpers import no_work, wait_until

ADMIN = Viewer.admin()


def test_prune_removes_old_closed_threads_and_their_checkpoints(
    agent_settings: Settings,
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    newsletter = record(id="m1", thread_key="t-1", headers={"list-id": "<news>"})
    question = record(id="m2", thread_key="t-2")
    closed = service.process_email(
        tenant=olivia, email=newsletter, settings=agent_settings
    )
    waiting = service.process_email(
        tenant=olivia, email=question, settings=agent_settings
    )
    later = utcnow() + timedelta(days=agent_settings.thread_retention_days + 1)

    pruned = service.prune_threads(settings=agent_settings, now=later)

    remaining = service.list_threads(viewer=ADMIN, settings=agent_settings)
    closed_state = graph_for(agent_settings).get_state(
        {"configurable": {"thread_id": closed.thread_id}}
    )
    assert pruned == 1
    assert [t.thread_id for t in remaining] == [waiting.thread_id]
    assert closed_state.values == {}


def test_prune_keeps_recent_closed_threads(agent_settings: Settings) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    newsletter = record(id="m1", headers={"list-id": "<news>"})
    service.process_email(tenant=olivia, email=newsletter, settings=agent_settings)

    pruned = service.prune_threads(settings=agent_settings)

    assert pruned == 0
    assert len(service.list_threads(viewer=ADMIN, settings=agent_settings)) == 1


def test_the_leading_scheduler_prunes_old_runs_and_closed_threads(
    agent_sqlite: Settings,
) -> None:
    settings = agent_sqlite
    olivia = add_tenant(settings, "olivia", "olivia@acme.example")
    crons.create_or_update_cron(
        user_id="olivia",
        email="olivia@acme.example",
        actor="test",
        schedule="0 9 * * *",
    )
    closed = service.process_email(
        tenant=olivia,
        email=record(id="m1", thread_key="t-1", headers={"list-id": "<news>"}),
        settings=settings,
    )
    waiting = service.process_email(
        tenant=olivia, email=record(id="m2", thread_key="t-2"), settings=settings
    )
    old_run = jobs.run_now(
        user_id="olivia", actor="test", settings=settings, work=no_work
    )
    long_ago = utcnow() - timedelta(days=settings.thread_retention_days + 1)
    with db.session_scope(settings) as session:
        session.execute(sa.update(Thread).values(updated_at=long_ago))
        session.execute(sa.update(JobRun).values(started_at=long_ago))

    scheduler = Scheduler(settings).start()
    try:
        remaining = wait_until(lambda: _pruned(settings))
    finally:
        scheduler.shutdown(timeout=5)

    assert [t.thread_id for t in remaining] == [waiting.thread_id]
    assert (
        graph_for(settings)
        .get_state({"configurable": {"thread_id": closed.thread_id}})
        .values
        == {}
    )
    assert old_run.status == "ok"


def _pruned(settings: Settings) -> list[service.ThreadPublic] | None:
    """The threads left once both old runs and old closed threads are gone."""
    if runs.list_runs(viewer=ADMIN, settings=settings):
        return None
    remaining = service.list_threads(viewer=ADMIN, settings=settings)
    return remaining if len(remaining) == 1 else None
