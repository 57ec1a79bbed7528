"""A small known world for the console's tests: tenants, crons, runs, threads."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from core import crons, db
from core.models import JobRun, Thread, User
from core.settings import Settings
from core.timeutil import utcnow

ADMIN = "admin:test"
NOW = utcnow().replace(microsecond=0)


def add_cron(settings: Settings, user_id: str, schedule: str = "0 9 * * 1") -> None:
    crons.create_or_update_cron(
        user_id=user_id,
        email=f"{user_id}@acme.example",
        actor=ADMIN,
        schedule=schedule,
        settings=settings,
    )


def add_user(settings: Settings, user_id: str, status: str = "active") -> None:
    with db.session_scope(settings) as session:
        session.add(
            User(
                user_id=user_id,
                email=f"{user_id}@acme.example",
                status=status,
                mail_source="folder",
            )
        )


def add_run(
    settings: Settings,
    user_id: str,
    started: datetime,
    status: str = "ok",
    duration: float | None = 1.0,
) -> None:
    with db.session_scope(settings) as session:
        session.add(
            JobRun(
                user_id=user_id,
                scheduled_for=started,
                started_at=started,
                finished_at=started,
                status=status,
                duration_s=duration,
            )
        )


def add_run_row(
    settings: Settings,
    user_id: str,
    started: datetime,
    status: str = "ok",
    *,
    kind: str | None = None,
    message: str | None = None,
) -> int:
    """One run like `add_run`, with an error kind and message; returns its id."""
    row = JobRun(
        user_id=user_id,
        scheduled_for=started,
        started_at=started,
        finished_at=started,
        status=status,
        duration_s=1.0,
        error_kind=kind,
        error_message=message,
    )
    with db.session_scope(settings) as session:
        session.add(row)
        session.flush()
        return int(row.id or 0)


def add_thread(settings: Settings, owner: str, created: datetime) -> None:
    with db.session_scope(settings) as session:
        session.add(
            Thread(
                thread_id=str(uuid.uuid4()),
                owner=owner,
                source_thread_id=str(uuid.uuid4()),
                subject=f"hello {owner}",
                sender="carol@partner.example",
                created_at=created,
            )
        )


def add_review_thread(
    settings: Settings,
    owner: str,
    updated: datetime,
    *,
    sender: str,
    triage: str,
    reason: str,
    draft: str,
) -> str:
    """A thread whose draft awaits review, with everything the page shows set."""
    thread_id = str(uuid.uuid4())
    with db.session_scope(settings) as session:
        session.add(
            Thread(
                thread_id=thread_id,
                owner=owner,
                source_thread_id=str(uuid.uuid4()),
                subject=f"Figures for {owner}",
                sender=sender,
                triage=triage,
                reason=reason,
                status="awaiting_review",
                draft=draft,
                created_at=updated,
                updated_at=updated,
            )
        )
    return thread_id


def seed_world(settings: Settings) -> None:
    """ann: cron, 3 runs in 24 h (1 error) + 1 older, 2 new threads; bob: paused
    cron, one timeout run; cat: no cron, needs reauth."""
    add_cron(settings, "ann", "*/5 * * * *")
    add_cron(settings, "bob", "0 9 * * 1")
    crons.pause_cron(user_id="bob", actor=ADMIN, reason="on leave", settings=settings)
    add_user(settings, "cat", status="needs_reauth")

    add_run(settings, "ann", NOW - timedelta(days=2), "error", 9.0)
    add_run(settings, "ann", NOW - timedelta(hours=3), "ok", 1.5)
    add_run(settings, "ann", NOW - timedelta(hours=2), "error", 4.0)
    add_run(settings, "ann", NOW - timedelta(hours=1), "ok", 2.5)
    add_run(settings, "ann", NOW - timedelta(minutes=30), "skipped", 0.0)
    add_run(settings, "bob", NOW - timedelta(hours=5), "timeout", 600.0)
    add_thread(settings, "ann", NOW - timedelta(hours=1))
    add_thread(settings, "ann", NOW - timedelta(hours=2))
    add_thread(settings, "ann", NOW - timedelta(days=3))
    add_thread(settings, "cat", NOW - timedelta(hours=1))
