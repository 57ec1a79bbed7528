"""`create-user-cron` and `cron …` as a script runs them: subprocesses, real database.

Each subprocess costs about a second, so the arranging is done in-process and each
test runs only the commands it is about.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import select

from core import crons, db, jobs, provisioning, tenants
from core.models import AuditEvent, User, UserCron
from core.settings import Settings
from core.timeutil import utcnow
from tests.cli_support import (
    CRON_KEYS,
    cli,
    cli_json,
    cli_many,
    error_line,
    record_lines,
)
from tests.sched_helpers import no_work

RUN_KEYS = {"status", "emails_fetched", "threads_created", "duration_s", "error"}
CREATE = (
    "create-user-cron",
    "--user-id",
    "olivia",
    "--email",
    "Olivia@Acme.example",
    "--schedule",
    "*/5 * * * *",
    "--timezone",
    "Europe/Berlin",
)


def _provision(settings: Settings, user_id: str, **kw: str) -> None:
    provisioning.provision_cron(
        user_id=user_id,
        email=f"{user_id}@acme.example",
        actor="test",
        settings=settings,
        **kw,
    )


def _rows(settings: Settings) -> tuple[list[dict], list[dict], int]:
    with db.session_scope(settings) as session:
        return (
            [u.model_dump() for u in session.exec(select(User))],
            [c.model_dump() for c in session.exec(select(UserCron))],
            len(session.exec(select(AuditEvent)).all()),
        )


def test_create_user_cron_prints_the_cron_and_twice_changes_nothing(
    settings: Settings,
) -> None:
    first = cli_json(settings, *CREATE)
    rows = _rows(settings)

    second = cli_json(settings, *CREATE)

    assert set(first) == CRON_KEYS
    assert first == second
    assert _rows(settings) == rows
    assert first["user_id"] == "olivia"
    assert first["email"] == "olivia@acme.example"
    assert first["cron_id"].startswith("cron-")
    assert (first["status"], first["tenant_status"]) == ("active", "active")
    assert (first["schedule"], first["description"]) == (
        "*/5 * * * *",
        "Every 5 minutes",
    )
    next_run = datetime.fromisoformat(first["next_run"])
    assert next_run.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert next_run.minute % 5 == 0
    assert utcnow() < next_run <= utcnow() + timedelta(minutes=5)


def test_create_user_cron_with_a_mailbox_prints_readable_lines(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    mailbox = tmp_path / "mailbox"
    mailbox.mkdir()

    result = cli(
        sqlite_settings,
        "create-user-cron",
        "--user-id",
        "theo",
        "--email",
        "theo@acme.example",
        "--mailbox",
        str(mailbox),
    )

    lines = record_lines(result.stdout)
    next_run = datetime.fromisoformat(lines["next run"])
    assert result.returncode == 0, result.stderr
    assert (lines["user id"], lines["email"]) == ("theo", "theo@acme.example")
    assert lines["schedule"] == "* * * * *"
    assert lines["description"] == "Every minute"
    assert lines["timezone"] == "UTC"
    assert lines["cron id"].startswith("cron-")
    assert next_run.utcoffset() == timedelta(0)
    assert utcnow() < next_run <= utcnow() + timedelta(minutes=1)
    with db.session_scope(sqlite_settings) as session:
        theo = session.get(User, "theo")
    assert (theo.mail_source, theo.mailbox_path) == ("folder", str(mailbox))


def test_create_user_cron_refuses_bad_input_and_changes_nothing(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    _provision(sqlite_settings, "olivia")
    before = _rows(sqlite_settings)
    bob = ("create-user-cron", "--user-id", "bob", "--email", "bob@acme.example")

    results = cli_many(
        sqlite_settings,
        (*bob, "--schedule", "61 * * * *"),
        (*bob, "--timezone", "Mars/Olympus"),
        ("create-user-cron", "--user-id", "bob", "--email", "bob-at-acme"),
        (*bob, "--mailbox", str(tmp_path / "missing")),
        ("create-user-cron", "--user-id", "bob", "--email", "olivia@acme.example"),
    )

    assert [r.returncode for r in results] == [2] * len(results)
    assert all(len(r.stderr.strip().splitlines()) == 1 for r in results)
    assert [error_line(r) for r in results] == [
        "error: The minute value 61 in '61 * * * *' is out of range (0-59).",
        "error: Unknown timezone 'Mars/Olympus'; use an IANA name such as "
        "Europe/Berlin.",
        "error: 'bob-at-acme' is not an email address.",
        f"error: Mailbox folder {tmp_path / 'missing'} does not exist.",
        "error: The email olivia@acme.example already belongs to another tenant.",
    ]
    assert _rows(sqlite_settings) == before


def test_cron_pause_status_resume_delete_round_trip(settings: Settings) -> None:
    _provision(settings, "olivia", schedule="0 9 * * 1")

    paused = cli_json(
        settings, "cron", "pause", "--user-id", "olivia", "--reason", "on holiday"
    )
    status = cli_json(settings, "cron", "status", "--user-id", "olivia")
    resumed = cli_json(settings, "cron", "resume", "--user-id", "olivia")
    deleted = cli_json(settings, "cron", "delete", "--user-id", "olivia")

    assert (paused["status"], paused["next_run"]) == ("paused", None)
    assert set(status) == CRON_KEYS | {"last_run"}
    assert (status["status"], status["tenant_status"]) == ("paused", "active")
    assert (status["pause_reason"], status["resume_at"]) == ("on holiday", None)
    assert status["last_run"] is None
    assert (resumed["status"], resumed["pause_reason"]) == ("active", None)
    assert datetime.fromisoformat(resumed["next_run"]).weekday() == 0
    assert deleted == {"user_id": "olivia", "deleted": True}
    with db.session_scope(settings) as session:
        actions = session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.user_id == "olivia")
            .order_by(AuditEvent.id)
        ).all()
        pause = session.exec(
            select(AuditEvent).where(AuditEvent.action == "cron.pause")
        ).one()
        assert session.exec(select(UserCron)).first() is None
        assert session.get(User, "olivia") is not None
    assert actions[-3:] == ["cron.pause", "cron.resume", "cron.delete"]
    assert (pause.actor, pause.after["pause_reason"]) == ("cli", "on holiday")


def test_cron_status_of_a_tenant_needing_reauth_keeps_the_two_statuses_apart(
    settings: Settings,
) -> None:
    _provision(settings, "olivia", schedule="0 9 * * 1", timezone="Europe/Berlin")
    tenants.set_tenant_status(
        user_id="olivia", status="needs_reauth", actor="test", settings=settings
    )

    as_json, readable = cli_many(
        settings,
        ("cron", "status", "--user-id", "olivia", "--json"),
        ("cron", "status", "--user-id", "olivia"),
    )

    status = json.loads(as_json.stdout)
    lines = record_lines(readable.stdout)
    next_run = datetime.fromisoformat(lines["next run"])
    assert (status["status"], status["tenant_status"]) == ("active", "needs_reauth")
    assert readable.returncode == 0, readable.stderr
    assert (lines["user id"], lines["email"]) == ("olivia", "olivia@acme.example")
    assert (lines["status"], lines["tenant status"]) == ("active", "needs_reauth")
    assert lines["description"] == "At 09:00, only on Monday"
    assert lines["next run"] == status["next_run"]
    assert (next_run.weekday(), next_run.hour, next_run.minute) == (0, 9, 0)
    assert next_run.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert utcnow() < next_run <= utcnow() + timedelta(days=7)
    assert lines["last run"] == "-"


def test_cron_list_shows_each_cron_with_its_last_run(
    sqlite_settings: Settings,
) -> None:
    _provision(sqlite_settings, "olivia")
    _provision(sqlite_settings, "theo")
    jobs.run_now(user_id="olivia", actor="test", settings=sqlite_settings, work=no_work)
    crons.pause_cron(user_id="theo", actor="test", settings=sqlite_settings)

    everyone, paused, table = cli_many(
        sqlite_settings,
        ("cron", "list", "--json"),
        ("cron", "list", "--status", "paused", "--json"),
        ("cron", "list"),
    )

    listed = json.loads(everyone.stdout)
    assert [c["user_id"] for c in listed] == ["olivia", "theo"]
    assert all(set(c) == CRON_KEYS | {"last_run"} for c in listed)
    assert set(listed[0]["last_run"]) == RUN_KEYS
    assert listed[0]["last_run"]["status"] == "ok"
    assert listed[1]["last_run"] is None
    assert [c["user_id"] for c in json.loads(paused.stdout)] == ["theo"]
    header, *lines = table.stdout.splitlines()
    assert header.split()[:3] == ["USER_ID", "STATUS", "SCHEDULE"]
    assert [line.split()[:2] for line in lines] == [
        ["olivia", "active"],
        ["theo", "paused"],
    ]


def test_commands_on_an_unknown_tenant_exit_2_in_one_line(
    sqlite_settings: Settings,
) -> None:
    results = cli_many(
        sqlite_settings,
        ("cron", "status", "--user-id", "nobody"),
        ("cron", "pause", "--user-id", "nobody"),
        ("tenant", "show", "--user-id", "nobody"),
        ("run", "--user-id", "nobody"),
        ("threads", "list", "--user-id", "nobody"),
    )

    assert [r.returncode for r in results] == [2] * len(results)
    assert [r.stderr.strip() for r in results] == [
        "error: Tenant 'nobody' has no cron.",
        "error: Tenant 'nobody' has no cron.",
        "error: No tenant with user id 'nobody'.",
        "error: No tenant with user id 'nobody'.",
        "error: No tenant with user id 'nobody'.",
    ]


def test_commands_before_db_upgrade_say_to_upgrade(configure, tmp_path: Path) -> None:
    fresh = configure(DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")

    result = cli(fresh, "cron", "list")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: The database schema is not current; run: python -m core db upgrade"
    )
