"""Pruning closed threads and their checkpoints after THREAD_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta

from core.agent import service
from core.agent.runtime import graph_for
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record

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
