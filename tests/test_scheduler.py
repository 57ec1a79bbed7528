"""The scheduler: jobs follow the database, ticks run once, on time, by one leader."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import crons, crypto, db
from core.cron_expr import next_fire_times, start_offset
from core.jobs import TickOutcome
from core.models import AuditEvent
from core.scheduler import Scheduler
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.conftest import PROJECT_ROOT
from tests.sched_helpers import ADMIN, add_cron, no_work, run_rows, sleeping, wait_until

EVERY_SECOND = "* * * * * *"


def _fast_settings(
    configure: Callable[..., Settings], url: str
) -> Callable[..., Settings]:
    def make(**env: str) -> Settings:
        values = {
            "DATABASE_URL": url,
            "SECRET_KEY": crypto.new_key(),
            "MIN_INTERVAL_SECONDS": "1",
            "LEASE_SECONDS": "2",
            **env,
        }
        settings = configure(**values)
        db.upgrade(settings)
        return settings

    return make


@pytest.fixture
def fast(configure: Callable[..., Settings], tmp_path: Any) -> Callable[..., Settings]:
    """Settings for short real waits: seconds schedules and a two-second lease."""
    return _fast_settings(configure, f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}")


@pytest.fixture
def fast_any(
    configure: Callable[..., Settings], backend_url: str
) -> Callable[..., Settings]:
    """The same on SQLite and PostgreSQL, where the database's guarantees matter."""
    return _fast_settings(configure, backend_url)


@pytest.fixture
def started() -> Iterator[Callable[..., Scheduler]]:
    made: list[Scheduler] = []

    def start(settings: Settings, **kw: Any) -> Scheduler:
        scheduler = Scheduler(settings, **kw)
        made.append(scheduler)
        return scheduler.start()

    yield start
    for scheduler in made:
        scheduler.shutdown(timeout=5)


def _triggers(scheduler: Scheduler) -> dict[str, str]:
    return {job.name: str(job.trigger) for job in scheduler.aps.get_jobs()}


def test_pause_resume_reschedule_delete_reach_the_schedule(fast, started) -> None:
    settings = fast()
    add_cron(settings, "olivia", "0 9 * * *")
    scheduler = started(settings, work=no_work)

    crons.pause_cron(user_id="olivia", actor=ADMIN, settings=settings)
    paused = _triggers(scheduler)
    crons.resume_cron(user_id="olivia", actor=ADMIN, settings=settings)
    resumed = _triggers(scheduler)
    crons.reschedule_cron(
        user_id="olivia",
        actor=ADMIN,
        schedule="*/5 * * * *",
        timezone="Europe/Berlin",
        settings=settings,
    )
    rescheduled = _triggers(scheduler)
    crons.delete_cron(user_id="olivia", actor=ADMIN, settings=settings)

    assert paused == {}
    assert resumed == {"olivia": "crontab[0 9 * * * UTC]"}
    assert rescheduled == {"olivia": "crontab[*/5 * * * * Europe/Berlin]"}
    assert _triggers(scheduler) == {}


def _subprocess_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


def test_change_from_another_process_is_picked_up_within_ten_seconds(
    fast, started
) -> None:
    settings = fast()
    scheduler = started(settings, work=no_work)
    script = (
        "from core import crons; crons.create_or_update_cron(user_id='theo', "
        "email='theo@acme.example', actor='cli', schedule='0 9 * * 1')"
    )

    subprocess.run(
        [sys.executable, "-c", script],
        env=_subprocess_env(settings),
        cwd=PROJECT_ROOT,
        check=True,
        timeout=30,
    )
    changed_at = time.monotonic()
    wait_until(lambda: "theo" in _triggers(scheduler), timeout=10)

    assert time.monotonic() - changed_at < 10
    assert _triggers(scheduler) == {"theo": "crontab[0 9 * * 1 UTC]"}


def test_four_tenants_due_together_all_run_on_a_pool_of_two(fast, started) -> None:
    settings = fast(WORKER_POOL_SIZE="2")
    for name in ("a", "b", "c", "d"):
        add_cron(settings, name, "*/4 * * * * *")

    started(settings, work=sleeping(2))
    first_tick = wait_until(
        lambda: Counter(r.scheduled_for for r in run_rows(settings)).most_common(1),
        timeout=6,
    )[0][0]
    wait_until(
        lambda: (
            sum(
                r.scheduled_for == first_tick and r.status == "ok"
                for r in run_rows(settings)
            )
            == 4
        ),
        timeout=8,
    )

    tick_rows = [r for r in run_rows(settings) if r.scheduled_for == first_tick]
    assert sorted(r.user_id for r in tick_rows) == ["a", "b", "c", "d"]
    assert all(r.status == "ok" for r in tick_rows)
    assert not [r for r in run_rows(settings) if r.error_kind == "missed"]


def test_job_slower_than_its_interval_never_overlaps_itself(fast_any, started) -> None:
    settings = fast_any()
    add_cron(settings, "olivia", EVERY_SECOND)

    scheduler = started(settings, work=sleeping(2.2))
    wait_until(
        lambda: sum(r.status == "ok" for r in run_rows(settings)) >= 2, timeout=8
    )
    scheduler.shutdown(timeout=5)

    done = [r for r in run_rows(settings) if r.status == "ok"]
    skipped = [r for r in run_rows(settings) if r.status == "skipped"]
    for earlier, later in zip(done, done[1:], strict=False):
        assert earlier.finished_at <= later.started_at
    assert skipped and all(r.error_kind == "overlap" for r in skipped)


def _age_cron(settings: Settings, user_id: str, ago: timedelta) -> None:
    with db.get_engine(settings).begin() as conn:
        conn.execute(
            sa.text("UPDATE user_crons SET updated_at = :at WHERE user_id = :u"),
            {
                "at": (utcnow() - ago).replace(tzinfo=None)
                if settings.is_sqlite
                else utcnow() - ago,
                "u": user_id,
            },
        )


def _two_recent_minutes() -> str:
    """A daily schedule whose fires were two and four minutes ago."""
    first, second = utcnow() - timedelta(minutes=4), utcnow() - timedelta(minutes=2)
    return f"{first.minute},{second.minute} {first.hour},{second.hour} * * *"


def test_missed_tick_inside_the_grace_runs_once(fast, started) -> None:
    settings = fast(MISFIRE_GRACE_SECONDS="300")
    schedule = _two_recent_minutes()
    add_cron(settings, "olivia", schedule)
    _age_cron(settings, "olivia", timedelta(minutes=10))
    expected = [
        t
        for t in next_fire_times(schedule, "UTC", utcnow() - timedelta(minutes=10), n=8)
        if t <= utcnow()
    ]

    started(settings, work=no_work)
    wait_until(lambda: run_rows(settings), timeout=5)
    time.sleep(0.5)

    assert [(r.status, r.scheduled_for) for r in run_rows(settings)] == [
        ("ok", expected[-1])
    ]


def test_missed_ticks_outside_the_grace_are_one_skipped_run(fast, started) -> None:
    settings = fast(MISFIRE_GRACE_SECONDS="30")
    schedule = _two_recent_minutes()
    add_cron(settings, "olivia", schedule)
    _age_cron(settings, "olivia", timedelta(minutes=10))
    expected = [
        t
        for t in next_fire_times(schedule, "UTC", utcnow() - timedelta(minutes=10), n=8)
        if t <= utcnow()
    ]

    started(settings, work=no_work)
    wait_until(lambda: run_rows(settings), timeout=5)
    time.sleep(0.5)

    rows = run_rows(settings)
    assert [(r.status, r.error_kind) for r in rows] == [("skipped", "missed")]
    assert rows[0].error_message.startswith(f"{len(expected)} tick(s) missed")
    assert len(expected) >= 2


def _fires_in_the_last(schedule: str, period: timedelta) -> list:
    now = utcnow()
    return [t for t in next_fire_times(schedule, "UTC", now - period, n=8) if t <= now]


def _warnings_about(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and name in record.getMessage()
    ]


def test_missed_ticks_folded_into_one_run_log_a_warning_naming_the_tenant(
    fast, started, caplog
) -> None:
    settings = fast(MISFIRE_GRACE_SECONDS="300")
    schedule = _two_recent_minutes()
    add_cron(settings, "olivia", schedule)
    _age_cron(settings, "olivia", timedelta(minutes=10))
    missed = _fires_in_the_last(schedule, timedelta(minutes=10))
    caplog.set_level(logging.DEBUG)

    started(settings, work=no_work)
    wait_until(lambda: [r for r in run_rows(settings) if r.status == "ok"], timeout=5)

    [warning] = _warnings_about(caplog, "olivia")
    assert f"{len(missed) - 1} missed tick(s) folded" in warning
    assert len(missed) >= 2
    assert settings.secret_key not in caplog.text


def test_missed_ticks_outside_the_grace_log_a_warning_naming_the_tenant(
    fast, started, caplog
) -> None:
    settings = fast(MISFIRE_GRACE_SECONDS="30")
    schedule = _two_recent_minutes()
    add_cron(settings, "olivia", schedule)
    _age_cron(settings, "olivia", timedelta(minutes=10))
    missed = _fires_in_the_last(schedule, timedelta(minutes=10))
    caplog.set_level(logging.DEBUG)

    started(settings, work=no_work)
    wait_until(lambda: run_rows(settings), timeout=5)

    [warning] = _warnings_about(caplog, "olivia")
    assert "skipped" in warning and f"{len(missed)} tick(s) missed" in warning
    assert settings.secret_key not in caplog.text


def _steal_lease(settings: Settings, holder: str) -> None:
    # As a scheduler that took the lease while this one was frozen would; SQLite
    # keeps lease times as text of this form.
    with db.get_engine(settings).begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE scheduler_leases SET holder = :holder, "
                "expires_at = '2999-01-01 00:00:00.000000' WHERE name = 'scheduler'"
            ),
            {"holder": holder},
        )


def test_lease_changes_and_standing_by_log_warnings_naming_the_holder(
    fast, started, caplog
) -> None:
    settings = fast()
    caplog.set_level(logging.DEBUG)
    first = started(settings, work=no_work, holder="sched-first")
    second = started(settings, work=no_work, holder="sched-second")
    on_start = _warnings_about(caplog, "sched-")

    first.shutdown(timeout=5)
    wait_until(lambda: second.role == "leader", timeout=5)
    on_take_over = _warnings_about(caplog, "sched-")[len(on_start) :]
    _steal_lease(settings, "sched-third")
    wait_until(lambda: second.lease_holder == "sched-third", timeout=5)
    on_loss = _warnings_about(caplog, "sched-")[len(on_start) + len(on_take_over) :]

    assert len(on_start) == 2
    assert "now runs scheduled jobs" in on_start[0] and "sched-first" in on_start[0]
    assert "standing by" in on_start[1] and "sched-first" in on_start[1]
    assert len(on_take_over) == 1 and "sched-second" in on_take_over[0]
    assert "now runs scheduled jobs" in on_take_over[0]
    # Usually one line; two when the steal lands inside a renewal.
    assert any("lost the scheduler lease" in line for line in on_loss)
    assert any("sched-third" in line for line in on_loss)
    assert second.role == "standby"
    assert settings.secret_key not in caplog.text


def _resume_events(settings: Settings, user_id: str) -> list[AuditEvent]:
    with db.session_scope(settings) as session:
        return list(
            session.exec(
                select(AuditEvent).where(
                    AuditEvent.user_id == user_id, AuditEvent.action == "cron.resume"
                )
            )
        )


def test_pause_with_a_resume_time_resumes_on_time(fast, started) -> None:
    settings = fast()
    add_cron(settings, "olivia", "0 9 * * *")
    resume_at = utcnow() + timedelta(seconds=2)
    crons.pause_cron(
        user_id="olivia",
        actor=ADMIN,
        reason="lunch",
        resume_at=resume_at,
        settings=settings,
    )
    scheduler = started(settings, work=no_work)
    # Each look notes the time after it, so a job seen at a time before the resume
    # time was certainly there too early.
    looks: list[tuple[bool, Any]] = []

    def resumed() -> bool:
        scheduled = "olivia" in _triggers(scheduler)
        looks.append((scheduled, utcnow()))
        return scheduled

    wait_until(resumed, timeout=5)

    [event] = _resume_events(settings, "olivia")
    early = [
        seen_at for scheduled, seen_at in looks if scheduled and seen_at < resume_at
    ]
    assert early == []
    assert not looks[0][0] and looks[0][1] < resume_at
    assert (event.actor, event.before["status"]) == ("scheduler", "paused")
    assert resume_at <= event.at < resume_at + timedelta(seconds=1.5)
    assert utcnow() - resume_at < timedelta(seconds=1.5)
    info = crons.list_crons(viewer=Viewer.admin(), settings=settings)[0]
    assert (info.status, info.pause_reason, info.resume_at) == ("active", None, None)


def test_blocked_tenant_does_not_delay_the_others(fast, started) -> None:
    settings = fast(WORKER_POOL_SIZE="2")
    release = threading.Event()
    for name in ("stuck", "a", "b"):
        add_cron(settings, name, EVERY_SECOND)

    def work(*, tenant: Any, **_: Any) -> TickOutcome:
        if tenant.user_id == "stuck":
            release.wait(120)  # blocked "for minutes" until the test ends
        return TickOutcome()

    scheduler = started(settings, work=work)
    time.sleep(3.5)
    others = [
        r for r in run_rows(settings) if r.user_id != "stuck" and r.status == "ok"
    ]
    release.set()
    scheduler.shutdown(timeout=5)

    lags = [(r.started_at - r.scheduled_for).total_seconds() for r in others]
    assert len(others) >= 4
    assert max(lags) < 0.75
    assert any(
        r.status == "running" or r.status == "ok" for r in run_rows(settings, "stuck")
    )


def _spawn(settings: Settings, sleep_seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sched_proc", str(sleep_seconds)],
        env=_subprocess_env(settings),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("ready"), line
    return process


def test_two_schedulers_make_one_row_per_tick(fast_any, started) -> None:
    # A lease long enough that a loaded machine's late heartbeat is no hand-over.
    settings = fast_any(LEASE_SECONDS="10")
    add_cron(settings, "olivia", EVERY_SECOND)
    add_cron(settings, "oscar", EVERY_SECOND)
    other = _spawn(settings, 0)
    try:
        local = started(settings, work=no_work)
        time.sleep(3.5)
        local.shutdown(timeout=5)
    finally:
        other.terminate()
        other.wait(10)

    rows = [r for r in run_rows(settings) if r.status == "ok"]
    per_tick = Counter((r.user_id, r.scheduled_for) for r in rows)
    assert len(rows) >= 4
    assert set(per_tick.values()) == {1}
    assert len({r.holder for r in rows}) == 1


def test_killing_the_leader_hands_over_and_abandons_its_run(fast_any, started) -> None:
    settings = fast_any()
    add_cron(settings, "olivia", EVERY_SECOND)
    leader = _spawn(settings, 30)
    standby = started(settings, work=no_work)
    running = wait_until(
        lambda: [r for r in run_rows(settings) if r.status == "running"], timeout=5
    )[0]
    assert standby.role == "standby"

    leader.send_signal(signal.SIGKILL)
    leader.wait(5)
    killed_at = time.monotonic()
    wait_until(lambda: standby.role == "leader", timeout=6)
    took_over = time.monotonic() - killed_at

    orphan = wait_until(
        lambda: [
            r
            for r in run_rows(settings)
            if r.id == running.id and r.status == "abandoned"
        ],
        timeout=3,
    )[0]
    assert took_over <= settings.lease_seconds + 0.5
    assert orphan.holder == running.holder != standby.holder
    wait_until(
        lambda: [
            r
            for r in run_rows(settings)
            if r.status == "ok" and r.holder == standby.holder
        ],
        timeout=3,
    )


def test_status_reports_role_entries_and_next_fires(fast, started) -> None:
    settings = fast()
    for name in ("olivia", "theo"):
        add_cron(settings, name, "0 9 * * *")

    status = started(settings, work=no_work).status()

    assert (status.role, status.entries, status.holder) == ("leader", 2, status.me)
    # Sorted by start time, which each cron's start offset moves within the minute.
    assert sorted(name for name, _ in status.next_fires) == ["olivia", "theo"]
    assert [when for _, when in status.next_fires] == sorted(
        when for _, when in status.next_fires
    )
    assert status.last_heartbeat is not None
    assert (status.missed_last_hour, status.skipped_last_hour) == (0, 0)


def test_minute_crons_start_at_their_offset_and_record_the_nominal_minute(
    fast, started
) -> None:
    settings = fast(TICK_SPREAD_SECONDS="59")
    add_cron(settings, "olivia", "*/5 * * * *")
    scheduler = started(settings, work=no_work)
    [job] = scheduler.aps.get_jobs()
    cron = crons.get_cron(user_id="olivia", viewer=Viewer.admin(), settings=settings)
    offset = start_offset(cron.cron_id, "*/5 * * * *", 59)

    # Started by hand at its fire time, as the executor does when it is due.
    job.func(*job.args, [job.next_run_time])

    [run] = run_rows(settings, "olivia")
    assert job.next_run_time - cron.next_runs[0] == timedelta(seconds=offset)
    assert run.scheduled_for.replace(tzinfo=None) == cron.next_runs[0].replace(
        tzinfo=None
    )
    assert (run.status, run.trigger) == ("ok", "schedule")
