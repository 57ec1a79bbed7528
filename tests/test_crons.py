"""The cron service: changes are validated, idempotent, audited and announced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core import crons, crypto, db
from core.errors import InvalidInput, UnknownTenant
from core.models import AuditEvent, User, UserCron
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.sched_helpers import ADMIN, add_cron


def _table_rows(settings: Settings) -> tuple[list, list, list]:
    with db.session_scope(settings) as session:
        return (
            [c.model_dump() for c in session.exec(select(UserCron))],
            [u.model_dump() for u in session.exec(select(User))],
            [a.model_dump() for a in session.exec(select(AuditEvent))],
        )


def test_create_cron_shows_description_and_three_next_runs(settings: Settings) -> None:
    info = add_cron(settings, "olivia", "*/5 * * * *", timezone="Europe/Berlin")

    assert info.description == "Every 5 minutes"
    assert len(info.next_runs) == 3
    assert all(t.tzinfo is not None and t > utcnow() for t in info.next_runs)
    assert (info.status, info.timezone, info.email) == (
        "active",
        "Europe/Berlin",
        "olivia@acme.example",
    )


def test_create_cron_twice_changes_nothing_the_second_time(settings: Settings) -> None:
    first = add_cron(settings, "olivia", "0 9 * * 1")
    before = _table_rows(settings)

    second = add_cron(settings, "olivia", "0 9 * * 1")

    assert _table_rows(settings) == before
    assert second.updated_at == first.updated_at


@pytest.mark.parametrize(
    ("schedule", "timezone", "message"),
    [
        ("* * * *", None, "needs 5 fields"),
        ("0 25 * * *", None, "hour value 25"),
        ("0 9 * * someday", None, "day-of-week name"),
        ("0 9 * * *", "Atlantis/Capital", "Unknown timezone"),
    ],
)
def test_reschedule_refused_leaves_the_database_as_it_was(
    settings: Settings, schedule: str, timezone: str | None, message: str
) -> None:
    add_cron(settings, "olivia", "0 9 * * *")
    before = _table_rows(settings)

    with pytest.raises(InvalidInput, match=message):
        crons.reschedule_cron(
            user_id="olivia",
            actor=ADMIN,
            schedule=schedule,
            timezone=timezone,
            settings=settings,
        )

    assert _table_rows(settings) == before


def test_create_refused_for_a_too_frequent_schedule_creates_nothing(
    configure, backend_url: str
) -> None:
    settings = configure(
        DATABASE_URL=backend_url,
        MIN_INTERVAL_SECONDS="300",
        SECRET_KEY=crypto.new_key(),
    )
    db.upgrade(settings)

    with pytest.raises(InvalidInput, match="more often than the minimum interval"):
        add_cron(settings, "olivia", "* * * * *")

    assert _table_rows(settings) == ([], [], [])


def test_pause_is_audited_with_state_before_and_after(settings: Settings) -> None:
    add_cron(settings, "olivia")
    resume_at = utcnow() + timedelta(hours=1)

    info = crons.pause_cron(
        user_id="olivia",
        actor=ADMIN,
        reason="holiday",
        resume_at=resume_at,
        settings=settings,
    )

    with db.session_scope(settings) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "cron.pause")
        ).one()
    assert (info.status, info.pause_reason, info.resume_at) == (
        "paused",
        "holiday",
        resume_at,
    )
    assert event.actor == ADMIN
    assert event.before["status"] == "active"
    assert event.after["status"] == "paused"
    assert event.after["pause_reason"] == "holiday"


def test_resume_clears_reason_and_failures(settings: Settings) -> None:
    add_cron(settings, "olivia")
    crons.pause_cron(user_id="olivia", actor=ADMIN, reason="x", settings=settings)

    info = crons.resume_cron(user_id="olivia", actor=ADMIN, settings=settings)

    assert (info.status, info.pause_reason, info.consecutive_failures) == (
        "active",
        None,
        0,
    )


def test_delete_cron_keeps_the_tenant(settings: Settings) -> None:
    add_cron(settings, "olivia")

    crons.delete_cron(user_id="olivia", actor=ADMIN, settings=settings)

    with db.session_scope(settings) as session:
        assert session.get(User, "olivia") is not None
        assert session.exec(select(UserCron)).all() == []
    with pytest.raises(UnknownTenant, match="has no cron"):
        crons.get_cron(user_id="olivia", viewer=Viewer.admin(), settings=settings)


def test_list_crons_shows_a_tenant_only_their_own(settings: Settings) -> None:
    add_cron(settings, "olivia")
    add_cron(settings, "oscar")

    own = crons.list_crons(viewer=Viewer.tenant("olivia"), settings=settings)
    everyone = crons.list_crons(viewer=Viewer.admin(), settings=settings)

    assert [c.user_id for c in own] == ["olivia"]
    assert [c.user_id for c in everyone] == ["olivia", "oscar"]
    with pytest.raises(UnknownTenant):
        crons.get_cron(
            user_id="oscar", viewer=Viewer.tenant("olivia"), settings=settings
        )


def test_version_changes_with_every_change(settings: Settings) -> None:
    empty = crons.version(settings)
    add_cron(settings, "olivia")
    created = crons.version(settings)

    crons.reschedule_cron(
        user_id="olivia", actor=ADMIN, schedule="0 * * * *", settings=settings
    )

    assert len({empty, created, crons.version(settings)}) == 3
