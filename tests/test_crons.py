"""The cron service: changes are validated, idempotent, audited and announced."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

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


def _with_times(state: dict | None) -> dict | None:
    """An audited state with its resume time read back as a time."""
    if state is None or state["resume_at"] is None:
        return state
    return {**state, "resume_at": datetime.fromisoformat(state["resume_at"])}


def _cron_audit(settings: Settings, user_id: str) -> list[tuple]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.user_id == user_id, col(AuditEvent.action).like("cron.%"))
        .order_by(AuditEvent.id)
    )
    with db.session_scope(settings) as session:
        return [
            (e.action, e.actor, e.cron_id, _with_times(e.before), _with_times(e.after))
            for e in session.exec(query)
        ]


def _cron_state(
    schedule: str, timezone: str, status: str = "active", **pause: object
) -> dict:
    return {
        "status": status,
        "schedule": schedule,
        "timezone": timezone,
        "pause_reason": pause.get("pause_reason"),
        "resume_at": pause.get("resume_at"),
    }


def test_every_cron_change_is_audited_with_its_actor_before_and_after(
    settings: Settings,
) -> None:
    resume_at = utcnow() + timedelta(hours=2)
    created = crons.create_or_update_cron(
        user_id="olivia",
        email="olivia@acme.example",
        actor="admin:ana",
        schedule="0 9 * * *",
        timezone="Europe/Berlin",
        settings=settings,
    )
    crons.create_or_update_cron(
        user_id="olivia",
        email="olivia@acme.example",
        actor="admin:ben",
        schedule="0 10 * * *",
        settings=settings,
    )
    crons.reschedule_cron(
        user_id="olivia",
        actor="admin:cy",
        schedule="*/5 * * * *",
        timezone="America/New_York",
        settings=settings,
    )
    crons.pause_cron(
        user_id="olivia",
        actor="admin:dee",
        reason="holiday",
        resume_at=resume_at,
        settings=settings,
    )
    crons.resume_cron(user_id="olivia", actor="admin:eve", settings=settings)

    crons.delete_cron(user_id="olivia", actor="admin:fay", settings=settings)

    berlin_9 = _cron_state("0 9 * * *", "Europe/Berlin")
    berlin_10 = _cron_state("0 10 * * *", "Europe/Berlin")
    new_york = _cron_state("*/5 * * * *", "America/New_York")
    paused = _cron_state(
        "*/5 * * * *",
        "America/New_York",
        "paused",
        pause_reason="holiday",
        resume_at=resume_at,
    )
    assert _cron_audit(settings, "olivia") == [
        ("cron.create", "admin:ana", created.cron_id, None, berlin_9),
        ("cron.update", "admin:ben", created.cron_id, berlin_9, berlin_10),
        ("cron.reschedule", "admin:cy", created.cron_id, berlin_10, new_york),
        ("cron.pause", "admin:dee", created.cron_id, new_york, paused),
        ("cron.resume", "admin:eve", created.cron_id, paused, new_york),
        ("cron.delete", "admin:fay", created.cron_id, new_york, None),
    ]


def test_a_change_that_changes_nothing_is_not_audited(settings: Settings) -> None:
    add_cron(settings, "olivia", "0 9 * * *")
    crons.pause_cron(user_id="olivia", actor=ADMIN, reason="away", settings=settings)

    crons.pause_cron(user_id="olivia", actor=ADMIN, reason="away", settings=settings)
    crons.reschedule_cron(
        user_id="olivia", actor=ADMIN, schedule="0 9 * * *", settings=settings
    )
    crons.resume_cron(user_id="olivia", actor=ADMIN, settings=settings)
    crons.resume_cron(user_id="olivia", actor=ADMIN, settings=settings)

    actions = [event[0] for event in _cron_audit(settings, "olivia")]
    assert actions == ["cron.create", "cron.pause", "cron.resume"]


def test_resume_on_time_is_audited_as_the_scheduler(settings: Settings) -> None:
    add_cron(settings, "olivia", "0 9 * * *")
    resume_at = utcnow() + timedelta(minutes=30)
    crons.pause_cron(
        user_id="olivia",
        actor=ADMIN,
        reason="lunch",
        resume_at=resume_at,
        settings=settings,
    )

    early = crons.resume_due(resume_at - timedelta(seconds=1), settings)
    due = crons.resume_due(resume_at, settings)

    action, actor, _, before, after = _cron_audit(settings, "olivia")[-1]
    assert (early, due) == ([], ["olivia"])
    assert (action, actor) == ("cron.resume", "scheduler")
    assert (before["status"], before["pause_reason"], before["resume_at"]) == (
        "paused",
        "lunch",
        resume_at,
    )
    assert after == _cron_state("0 9 * * *", "UTC")
