"""Isolation: every read and review function shows a tenant only their own threads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core import db
from core.agent import service
from core.agent.runtime import thread_id_for
from core.agent.threads import UnknownThread
from core.errors import InvalidInput
from core.models import Thread
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record

OLIVIA, THEO = Viewer.tenant("olivia"), Viewer.tenant("theo")


def _shared_thread(settings: Settings) -> tuple[str, str]:
    """Both tenants get mail from Carol in a thread with the same source id."""
    olivia = add_tenant(settings, "olivia", "olivia@acme.example")
    theo = add_tenant(settings, "theo", "theo@acme.example")
    ours = service.process_email(
        tenant=olivia, email=record(id="m1", thread_key="gmail-1"), settings=settings
    )
    theirs = service.process_email(
        tenant=theo,
        email=record(id="m1", thread_key="gmail-1", to=("theo@acme.example",)),
        settings=settings,
    )
    return ours.thread_id, theirs.thread_id


def test_same_source_thread_gives_each_tenant_their_own(
    agent_settings: Settings,
) -> None:
    ours, theirs = _shared_thread(agent_settings)

    olivia_sees = service.list_threads(viewer=OLIVIA, settings=agent_settings)
    theo_sees = service.list_threads(viewer=THEO, settings=agent_settings)
    admin_sees = service.list_threads(viewer=Viewer.admin(), settings=agent_settings)

    assert ours != theirs
    assert [t.thread_id for t in olivia_sees] == [ours]
    assert [t.thread_id for t in theo_sees] == [theirs]
    assert {t.thread_id for t in admin_sees} == {ours, theirs}


def test_tenant_cannot_widen_list_with_user_id(agent_settings: Settings) -> None:
    _shared_thread(agent_settings)

    listed = service.list_threads(
        viewer=OLIVIA, user_id="theo", settings=agent_settings
    )

    assert listed == []


def test_other_tenants_thread_is_not_found_everywhere(agent_settings: Settings) -> None:
    _ours, theirs = _shared_thread(agent_settings)
    actions = [
        service.get_thread,
        service.approve_draft,
        service.reject_draft,
        service.acknowledge,
    ]

    for action in actions:
        with pytest.raises(UnknownThread, match="No thread"):
            action(viewer=OLIVIA, thread_id=theirs, settings=agent_settings)

    theo_thread = service.get_thread(
        viewer=THEO, thread_id=theirs, settings=agent_settings
    )
    assert theo_thread.status == "awaiting_review"


def test_admin_may_review_any_thread(agent_settings: Settings) -> None:
    _ours, theirs = _shared_thread(agent_settings)

    thread = service.reject_draft(
        viewer=Viewer.admin(), thread_id=theirs, settings=agent_settings
    )

    assert (thread.owner, thread.status) == ("theo", "rejected")


@pytest.mark.parametrize(
    "bad", [{"status": "lost"}, {"limit": 0}, {"offset": -1}, {"limit": 501}]
)
def test_list_threads_refuses_bad_filters(agent_sqlite: Settings, bad: dict) -> None:
    with pytest.raises(InvalidInput):
        service.list_threads(viewer=OLIVIA, settings=agent_sqlite, **bad)


tenants = st.sampled_from(["olivia", "theo", "oscar", "ann"])
threads = st.lists(
    st.tuples(tenants, st.sampled_from(["a", "b", "c", "shared"])),
    min_size=1,
    max_size=12,
    unique=True,
)


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=threads, viewer_id=tenants, asked=st.none() | tenants)
def test_no_read_function_leaks_another_owners_thread(
    agent_sqlite: Settings,
    rows: list[tuple[str, str]],
    viewer_id: str,
    asked: str | None,
) -> None:
    with db.session_scope(agent_sqlite) as session:
        session.execute(sa.delete(Thread))
        for owner, key in rows:
            session.add(
                Thread(
                    thread_id=thread_id_for(owner, key),
                    owner=owner,
                    source_thread_id=key,
                )
            )
    viewer = Viewer.tenant(viewer_id)

    listed = service.list_threads(
        viewer=viewer, user_id=asked, limit=500, settings=agent_sqlite
    )
    readable = set()
    for owner, key in rows:
        try:
            service.get_thread(
                viewer=viewer,
                thread_id=thread_id_for(owner, key),
                settings=agent_sqlite,
            )
            readable.add((owner, key))
        except UnknownThread:
            pass

    own = {(owner, key) for owner, key in rows if owner == viewer_id}
    own_listed = own if asked in (None, viewer_id) else set()
    assert {(t.owner, t.source_thread_id) for t in listed} == own_listed
    assert readable == own
