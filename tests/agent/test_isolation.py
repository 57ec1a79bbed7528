"""Isolation: a tenant sees and reviews only their own threads, drafts and runs.

An admin sees every tenant's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
from core.models import JobRun, Thread
from core.runs import list_runs
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


TENANTS = ["olivia", "theo", "oscar", "ann"]
tenants = st.sampled_from(TENANTS)
viewers = st.one_of(tenants.map(Viewer.tenant), st.just(Viewer.admin()))
# (owner, source thread, whether it holds a draft awaiting review)
threads = st.lists(
    st.tuples(tenants, st.sampled_from(["a", "b", "c", "shared"]), st.booleans()),
    min_size=1,
    max_size=12,
    unique_by=lambda row: row[:2],
)
PROPERTY = hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _sees(viewer: Viewer, owner: str, asked: str | None = None) -> bool:
    """Whether a row of `owner` comes back: their own (an admin: all), then `asked`."""
    return viewer.may_see(owner) and asked in (None, owner)


def _draft_text(owner: str, key: str) -> str:
    return f"Reply of {owner} in thread {key}"


def _store_threads(settings: Settings, rows: list[tuple[str, str, bool]]) -> None:
    with db.session_scope(settings) as session:
        session.execute(sa.delete(Thread))
        for owner, key, has_draft in rows:
            session.add(
                Thread(
                    thread_id=thread_id_for(owner, key),
                    owner=owner,
                    source_thread_id=key,
                    status="awaiting_review" if has_draft else "awaiting_ack",
                    draft=_draft_text(owner, key) if has_draft else None,
                )
            )


def _drafts_read(
    settings: Settings, viewer: Viewer, rows: list[tuple[str, str, bool]]
) -> dict[tuple[str, str], str | None]:
    """The draft `get_thread` shows the viewer, for every thread it shows at all."""
    shown = {}
    for owner, key, _has_draft in rows:
        try:
            thread = service.get_thread(
                viewer=viewer, thread_id=thread_id_for(owner, key), settings=settings
            )
        except UnknownThread:
            continue
        shown[owner, key] = thread.draft
    return shown


@PROPERTY
@given(rows=threads, viewer=viewers, asked=st.none() | tenants)
def test_no_read_function_leaks_another_owners_thread_or_draft(
    agent_sqlite: Settings,
    rows: list[tuple[str, str, bool]],
    viewer: Viewer,
    asked: str | None,
) -> None:
    _store_threads(agent_sqlite, rows)

    listed = service.list_threads(
        viewer=viewer, user_id=asked, limit=500, settings=agent_sqlite
    )
    pending = service.list_threads(
        viewer=viewer,
        user_id=asked,
        status="awaiting_review",
        limit=500,
        settings=agent_sqlite,
    )
    drafts_read = _drafts_read(agent_sqlite, viewer, rows)

    assert {(t.owner, t.source_thread_id) for t in listed} == {
        (owner, key) for owner, key, _has_draft in rows if _sees(viewer, owner, asked)
    }
    assert {(t.owner, t.source_thread_id, t.draft) for t in pending} == {
        (owner, key, _draft_text(owner, key))
        for owner, key, has_draft in rows
        if has_draft and _sees(viewer, owner, asked)
    }
    assert drafts_read == {
        (owner, key): _draft_text(owner, key) if has_draft else None
        for owner, key, has_draft in rows
        if viewer.may_see(owner)
    }


@PROPERTY
@given(rows=threads, viewer=viewers)
def test_no_one_approves_or_rejects_a_draft_they_cannot_see(
    agent_sqlite: Settings, rows: list[tuple[str, str, bool]], viewer: Viewer
) -> None:
    _store_threads(agent_sqlite, rows)
    hidden = [
        thread_id_for(owner, key)
        for owner, key, has_draft in rows
        if has_draft and not viewer.may_see(owner)
    ]

    for thread_id in hidden:
        for action in (service.approve_draft, service.reject_draft):
            with pytest.raises(UnknownThread):
                action(viewer=viewer, thread_id=thread_id, settings=agent_sqlite)

    with db.session_scope(agent_sqlite) as session:
        stored = session.execute(
            sa.select(
                Thread.owner, Thread.source_thread_id, Thread.status, Thread.draft
            )
        ).all()
    assert set(stored) == {
        (owner, key, "awaiting_review", _draft_text(owner, key))
        if has_draft
        else (owner, key, "awaiting_ack", None)
        for owner, key, has_draft in rows
    }


@PROPERTY
@given(owners=st.lists(tenants, min_size=1, max_size=12), viewer=viewers)
def test_list_runs_shows_a_tenant_only_their_own_and_an_admin_all(
    agent_sqlite: Settings, owners: list[str], viewer: Viewer
) -> None:
    first = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    ticks = [(owner, first + timedelta(minutes=i)) for i, owner in enumerate(owners)]
    with db.session_scope(agent_sqlite) as session:
        session.execute(sa.delete(JobRun))
        for owner, at in ticks:
            session.add(
                JobRun(user_id=owner, scheduled_for=at, started_at=at, status="ok")
            )

    seen = {
        asked: list_runs(viewer=viewer, user_id=asked, limit=500, settings=agent_sqlite)
        for asked in [None, *TENANTS]
    }

    for asked, runs in seen.items():
        assert [(run.user_id, run.scheduled_for) for run in runs] == [
            (owner, at) for owner, at in reversed(ticks) if _sees(viewer, owner, asked)
        ]
