"""One tenant's tick on real mail: fetch, assistant, record, cursor."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import crons, crypto, db, jobs, pipeline, provisioning, tenants
from core.models import ProcessedMessage, TenantInfo, Thread
from core.pipeline import run_tenant
from core.settings import Settings
from core.viewer import Viewer
from tests.fakes.fake_gmail import FakeGmail
from tests.mail_support import connect_tenant, folder_expectations

ACTOR = "test"


def _folder_tenant(
    settings: Settings, folder: Path, user_id: str = "tana"
) -> TenantInfo:
    tenant = tenants.create_or_update_tenant(
        user_id=user_id,
        email=f"{user_id}@enron.example",
        actor=ACTOR,
        mailbox_path=str(folder),
        settings=settings,
    )
    crons.create_or_update_cron(
        user_id=user_id, email=tenant.email, actor=ACTOR, settings=settings
    )
    return tenant


def _count(settings: Settings, table: type, **where: str) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    for name, value in where.items():
        query = query.where(getattr(table, name) == value)
    with db.get_engine(settings).connect() as conn:
        return conn.execute(query).scalar_one()


def test_a_tick_processes_every_message_once_and_stores_threads(
    sqlite_settings: Settings, enron_people: list[Path]
) -> None:
    folder = enron_people[0]
    tenant = _folder_tenant(sqlite_settings, folder)
    messages, thread_keys = folder_expectations(folder)

    first = run_tenant(
        tenant=tenant, deadline=time.monotonic() + 300, settings=sqlite_settings
    )
    second = run_tenant(
        tenant=tenant, deadline=time.monotonic() + 300, settings=sqlite_settings
    )

    assert (first.emails_fetched, first.threads_created) == (messages, thread_keys)
    assert (second.emails_fetched, second.threads_created) == (0, 0)
    assert _count(sqlite_settings, ProcessedMessage, owner="tana") == messages
    assert _count(sqlite_settings, Thread, owner="tana") == thread_keys


def test_a_run_past_its_deadline_stops_and_the_next_tick_continues(
    sqlite_settings: Settings, enron_people: list[Path]
) -> None:
    folder = enron_people[1]
    tenant = _folder_tenant(sqlite_settings, folder)
    messages, _ = folder_expectations(folder)

    cut = run_tenant(tenant=tenant, deadline=time.monotonic(), settings=sqlite_settings)
    rest = run_tenant(
        tenant=tenant, deadline=time.monotonic() + 300, settings=sqlite_settings
    )

    assert cut.timed_out and cut.threads_created == 0
    assert not rest.timed_out and rest.emails_fetched == messages
    assert _count(sqlite_settings, ProcessedMessage, owner="tana") == messages


def test_an_unparseable_file_is_recorded_once_and_not_fetched_again(
    sqlite_settings: Settings, tmp_path: Path, mail_data: Path
) -> None:
    folder = tmp_path / "box"
    folder.mkdir()
    shutil.copy(mail_data / "tricky" / "flanker__text-only.eml", folder / "a.eml")
    (folder / "broken.eml").write_bytes(b"")
    tenant = _folder_tenant(sqlite_settings, folder)

    first = run_tenant(
        tenant=tenant, deadline=time.monotonic() + 60, settings=sqlite_settings
    )
    second = run_tenant(
        tenant=tenant, deadline=time.monotonic() + 60, settings=sqlite_settings
    )

    assert first.emails_fetched == 1 and second.emails_fetched == 0
    assert _count(sqlite_settings, ProcessedMessage, outcome="unparseable") == 1


def test_run_now_records_the_real_work_in_job_runs(
    settings: Settings, enron_people: list[Path]
) -> None:
    folder = enron_people[2]
    _folder_tenant(settings, folder)
    messages, thread_keys = folder_expectations(folder)

    run = jobs.run_now(user_id="tana", actor=ACTOR, settings=settings)

    assert run.status == "ok", run.error_message
    assert (run.emails_fetched, run.threads_created) == (messages, thread_keys)
    assert run.duration_s is not None and run.duration_s > 0


def test_a_tenant_over_gmail_quota_is_skipped_without_counting_as_failing(
    configure: Callable[..., Settings], fake_gmail: FakeGmail, tmp_path: Path
) -> None:
    settings = configure(
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}",
        SECRET_KEY=crypto.new_key(),
        GOOGLE_API_ENDPOINT=fake_gmail.url,
        GOOGLE_BATCH_URI=fake_gmail.batch_uri,
        GOOGLE_TOKEN_URI=fake_gmail.token_uri,
        GMAIL_RETRY_ATTEMPTS="2",
        GMAIL_RETRY_BASE_SECONDS="0.001",
        MAX_CONSECUTIVE_FAILURES="2",
    )
    db.upgrade(settings)
    connect_tenant(fake_gmail, settings, user_id="gina", email="gina@acme.example")
    crons.create_or_update_cron(
        user_id="gina", email="gina@acme.example", actor=ACTOR, settings=settings
    )
    # Every try of three ticks in a row answered 429: more than the failure limit.
    fake_gmail.fail_next("getProfile", 429, count=3 * settings.gmail_retry_attempts)

    limited = [
        jobs.run_now(user_id="gina", actor=ACTOR, settings=settings) for _ in range(3)
    ]
    after = jobs.run_now(user_id="gina", actor=ACTOR, settings=settings)

    assert [(r.status, r.error_kind) for r in limited] == [("skipped", "quota")] * 3
    assert "quota exceeded for gina" in (limited[0].error_message or "")
    cron = crons.get_cron(user_id="gina", viewer=Viewer.admin(), settings=settings)
    assert (cron.status, cron.consecutive_failures) == ("active", 0)
    assert after.status == "ok", after.error_message


class _StepClock:
    """A monotonic clock that moves on a minute each time it is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        self.now += 60.0
        return self.now


def _checkpoints(settings: Settings) -> int:
    with db.get_engine(settings).connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM checkpoints")).scalar_one()


def test_a_run_cut_by_its_time_limit_keeps_its_progress_for_the_next_tick(
    configure: Callable[..., Settings],
    tmp_path: Path,
    enron_people: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = configure(
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}",
        SECRET_KEY=crypto.new_key(),
        RUN_TIME_LIMIT_SECONDS="600",
    )
    db.upgrade(settings)
    folder = enron_people[3]
    _folder_tenant(settings, folder)
    messages, thread_keys = folder_expectations(folder)

    # Only the clock of the first run is faked: every look at it costs a minute,
    # so the ten-minute limit cuts that run after a few messages.
    with monkeypatch.context() as patch:
        clock = _StepClock()
        patch.setattr(jobs, "time", clock)
        patch.setattr(pipeline, "time", clock)
        cut = jobs.run_now(user_id="tana", actor=ACTOR, settings=settings)
    done_in_cut = _count(settings, ProcessedMessage, owner="tana")
    threads_in_cut = _count(settings, Thread, owner="tana")
    rest = jobs.run_now(user_id="tana", actor=ACTOR, settings=settings)

    assert (cut.status, rest.status) == ("timeout", "ok"), rest.error_message
    assert 0 < done_in_cut < messages
    assert threads_in_cut == cut.threads_created > 0
    assert rest.emails_fetched == messages - done_in_cut
    assert cut.threads_created + rest.threads_created == thread_keys
    assert _count(settings, ProcessedMessage, owner="tana") == messages
    assert _count(settings, Thread, owner="tana") == thread_keys
    # The graph keeps one checkpoint per email it is given: none was given twice.
    assert _checkpoints(settings) == messages


def test_a_gmail_tenant_who_never_connected_is_told_to_connect(
    sqlite_settings: Settings,
) -> None:
    # As create-user-cron and the gmail-connected webhook make one: no token yet.
    provisioning.provision_cron(
        user_id="carl", email="carl@acme.example", actor=ACTOR, settings=sqlite_settings
    )

    run = jobs.run_now(user_id="carl", actor=ACTOR, settings=sqlite_settings)

    tenant = tenants.get_tenant(user_id="carl", settings=sqlite_settings)
    cron = crons.get_cron(
        user_id="carl", viewer=Viewer.admin(), settings=sqlite_settings
    )
    assert (run.status, run.error_kind) == ("error", "reauth_required")
    assert run.error_message == (
        "carl has not connected Gmail yet; connect it on the console's Connect Gmail "
        "page, which also resumes their cron."
    )
    assert (tenant.mail_source, tenant.status) == ("gmail", "needs_reauth")
    assert cron.status == "paused" and "has not connected Gmail" in (
        cron.pause_reason or ""
    )
