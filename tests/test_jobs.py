"""One tenant's tick: the claim, the record, and what failures do to the cron."""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from core import crons, db, jobs, runs, tenants
from core.errors import Conflict, ReauthRequired
from core.jobs import TickOutcome
from core.models import User
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.sched_helpers import (
    ADMIN,
    add_cron,
    no_work,
    run_rows,
    sleeping,
    wait_until,
)


def _tick(settings: Settings, cron_id: Any, when: Any, work: Any = no_work):
    return jobs.execute_tick(
        user_cron_id=cron_id,
        scheduled_for=when,
        trigger="schedule",
        settings=settings,
        work=work,
    )


def test_execute_tick_records_an_ok_run_with_counts(settings: Settings) -> None:
    cron = add_cron(settings, "olivia")

    info = _tick(settings, cron.id, cron.next_runs[0], sleeping(0.01))

    assert info is not None
    assert (info.status, info.emails_fetched, info.threads_created) == ("ok", 1, 1)
    assert info.scheduled_for == cron.next_runs[0]
    assert info.duration_s is not None and info.finished_at is not None


def test_same_tick_twice_leaves_one_row(settings: Settings) -> None:
    cron = add_cron(settings, "olivia")

    first = _tick(settings, cron.id, cron.next_runs[0])
    second = _tick(settings, cron.id, cron.next_runs[0])

    assert first is not None and second is None
    assert len(run_rows(settings, "olivia")) == 1


def test_tick_during_a_run_is_recorded_as_skipped(settings: Settings) -> None:
    cron = add_cron(settings, "olivia")
    slow = threading.Thread(
        target=_tick, args=(settings, cron.id, cron.next_runs[0], sleeping(1.5))
    )
    slow.start()
    time.sleep(0.5)

    skipped = _tick(settings, cron.id, cron.next_runs[1])
    slow.join()

    assert skipped is not None and skipped.status == "skipped"
    assert skipped.error_kind == "overlap"
    assert "was still going" in (skipped.error_message or "")
    assert [r.status for r in run_rows(settings, "olivia")] == ["ok", "skipped"]


def test_run_now_during_a_scheduled_run_is_refused(settings: Settings) -> None:
    cron = add_cron(settings, "olivia")
    slow = threading.Thread(
        target=_tick, args=(settings, cron.id, cron.next_runs[0], sleeping(1.5))
    )
    slow.start()
    time.sleep(0.5)

    with pytest.raises(Conflict, match="already going"):
        jobs.run_now(user_id="olivia", actor=ADMIN, settings=settings, work=no_work)
    slow.join()

    assert [r.status for r in run_rows(settings, "olivia")] == ["ok"]


def test_failing_job_is_recorded_as_error_without_secrets(settings: Settings) -> None:
    cron = add_cron(settings, "olivia")

    def broken(**_: Any) -> TickOutcome:
        raise RuntimeError("token ya29.a0AfH6SMBx leaked\nsecond line")

    info = _tick(settings, cron.id, cron.next_runs[0], broken)

    assert info is not None and info.status == "error"
    assert info.error_kind == "RuntimeError"
    assert info.error_message == "token [redacted] leaked"


def test_revoked_credentials_set_needs_reauth_and_pause(settings: Settings) -> None:
    cron = add_cron(settings, "olivia")

    def revoked(**_: Any) -> TickOutcome:
        raise ReauthRequired("olivia")

    _tick(settings, cron.id, cron.next_runs[0], revoked)

    tenant = tenants.get_tenant(user_id="olivia", settings=settings)
    paused = crons.get_cron(user_id="olivia", viewer=Viewer.admin(), settings=settings)
    assert tenant.status == "needs_reauth"
    assert paused.status == "paused"
    assert "reconnect Gmail" in (paused.pause_reason or "")


def test_n_failures_in_a_row_pause_with_the_last_error(configure, backend_url) -> None:
    from core import crypto

    settings = configure(
        DATABASE_URL=backend_url,
        SECRET_KEY=crypto.new_key(),
        MAX_CONSECUTIVE_FAILURES="3",
    )
    db.upgrade(settings)
    cron = add_cron(settings, "olivia", "* * * * *")
    calls = iter(range(10))

    def flaky(**_: Any) -> TickOutcome:
        raise ValueError(f"bad mailbox {next(calls)}")

    for when in crons.get_cron(
        user_id="olivia", viewer=Viewer.admin(), settings=settings
    ).next_runs:
        _tick(settings, cron.id, when, flaky)

    paused = crons.get_cron(user_id="olivia", viewer=Viewer.admin(), settings=settings)
    assert paused.status == "paused"
    assert paused.pause_reason == "3 failed runs in a row; last: bad mailbox 2"


def test_success_resets_the_failure_count(settings: Settings) -> None:
    cron = add_cron(settings, "olivia")

    def broken(**_: Any) -> TickOutcome:
        raise ValueError("nope")

    _tick(settings, cron.id, cron.next_runs[0], broken)
    _tick(settings, cron.id, cron.next_runs[1], no_work)

    assert (
        crons.get_cron(
            user_id="olivia", viewer=Viewer.admin(), settings=settings
        ).consecutive_failures
        == 0
    )


def test_run_past_its_time_limit_is_timeout_and_next_tick_runs(configure) -> None:
    settings = configure(RUN_TIME_LIMIT_SECONDS="1")
    db.upgrade(settings)
    cron = add_cron(settings, "olivia")

    def stops_at_deadline(*, deadline: float, **_: Any) -> TickOutcome:
        fetched = 0
        while time.monotonic() < deadline:
            time.sleep(0.1)  # one email
            fetched += 1
        return TickOutcome(emails_fetched=fetched, threads_created=0, timed_out=True)

    late = _tick(settings, cron.id, cron.next_runs[0], stops_at_deadline)
    after = _tick(settings, cron.id, cron.next_runs[1], no_work)

    assert late is not None and late.status == "timeout"
    assert 5 <= late.emails_fetched <= 11
    assert after is not None and after.status == "ok"


def test_ten_runs_finishing_together_on_sqlite_while_the_console_reads(
    sqlite_settings: Settings,
) -> None:
    settings = sqlite_settings
    crons_ = [add_cron(settings, f"t{i}") for i in range(10)]
    start = threading.Barrier(10)
    stop_reading = threading.Event()
    errors: list[BaseException] = []

    def writes_cursor(*, tenant: Any, **_: Any) -> TickOutcome:
        start.wait()
        with db.session_scope(settings) as session:
            user = session.get(User, tenant.user_id)
            user.cursor = {"last": f"msg-{tenant.user_id}"}
            session.add(user)
        return TickOutcome(emails_fetched=3, threads_created=2)

    def console() -> None:
        while not stop_reading.is_set():
            try:
                jobs.list_runs(viewer=Viewer.admin(), settings=settings)
                crons.list_crons(viewer=Viewer.admin(), settings=settings)
            except BaseException as err:  # recorded for the assertion below
                errors.append(err)

    def one(cron: Any) -> None:
        try:
            _tick(settings, cron.id, cron.next_runs[0], writes_cursor)
        except BaseException as err:
            errors.append(err)

    reader = threading.Thread(target=console)
    reader.start()
    workers = [threading.Thread(target=one, args=(c,)) for c in crons_]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop_reading.set()
    reader.join()

    with db.session_scope(settings) as session:
        cursors = [u.cursor for u in session.exec(select(User).order_by(User.user_id))]
    assert errors == []
    assert sorted(r.status for r in run_rows(settings)) == ["ok"] * 10
    assert all(r.emails_fetched == 3 for r in run_rows(settings))
    assert len([c for c in cursors if c.get("last", "").startswith("msg-")]) == 10


def test_list_runs_is_newest_first_and_filtered_by_viewer(settings: Settings) -> None:
    olivia = add_cron(settings, "olivia")
    oscar = add_cron(settings, "oscar")
    _tick(settings, olivia.id, olivia.next_runs[0])
    time.sleep(0.01)
    _tick(settings, olivia.id, olivia.next_runs[1])
    _tick(settings, oscar.id, oscar.next_runs[0])

    own = jobs.list_runs(viewer=Viewer.tenant("olivia"), settings=settings)

    assert [r.scheduled_for for r in own] == [olivia.next_runs[1], olivia.next_runs[0]]


def test_prune_removes_runs_older_than_retention(settings: Settings) -> None:
    cron = add_cron(settings, "olivia")
    _tick(settings, cron.id, cron.next_runs[0])

    kept = runs.prune_runs(settings=settings, now=utcnow())
    pruned = runs.prune_runs(settings=settings, now=utcnow() + timedelta(days=31))

    assert (kept, pruned) == (0, 1)


# --- what a run logs ---------------------------------------------------------------


def _counting(emails: int, threads: int, timed_out: bool = False):
    def work(**_: Any) -> TickOutcome:
        time.sleep(0.05)
        return TickOutcome(emails, threads, timed_out)

    return work


def _failing(**_: Any) -> TickOutcome:
    raise ValueError("mailbox folder is missing")


def _about(caplog: pytest.LogCaptureFixture, user_id: str, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == level and user_id in record.getMessage()
    ]


@pytest.mark.parametrize(
    ("work", "status", "emails", "threads"),
    [
        (_counting(17, 5), "ok", 17, 5),
        (_counting(17, 5, timed_out=True), "timeout", 17, 5),
        (_failing, "error", 0, 0),
    ],
    ids=["ok", "timeout", "error"],
)
def test_each_run_logs_one_info_line_with_tenant_status_duration_and_counts(
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    work: Any,
    status: str,
    emails: int,
    threads: int,
) -> None:
    cron = add_cron(settings, "olivia")
    caplog.clear()  # only what the tick logs

    with caplog.at_level(logging.DEBUG):
        info = _tick(settings, cron.id, cron.next_runs[0], work)

    [line] = _about(caplog, "olivia", logging.INFO)
    logged_duration = re.search(r"(\d+\.\d+) ?s\b", line)
    assert info is not None and info.status == status
    assert re.search(rf"\b{status}\b", line)
    assert f"{emails} emails" in line and f"{threads} threads" in line
    assert logged_duration is not None
    assert abs(float(logged_duration[1]) - info.duration_s) <= 0.01
    assert settings.secret_key not in caplog.text


def test_tick_skipped_during_a_run_logs_a_warning_naming_the_tenant(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    cron = add_cron(settings, "olivia")
    slow = threading.Thread(
        target=_tick, args=(settings, cron.id, cron.next_runs[0], sleeping(1.5))
    )
    slow.start()
    wait_until(lambda: [r for r in run_rows(settings) if r.status == "running"])
    caplog.clear()  # only what the skipped tick logs

    with caplog.at_level(logging.DEBUG):
        skipped = _tick(settings, cron.id, cron.next_runs[1])
    slow.join()

    [warning] = _about(caplog, "olivia", logging.WARNING)
    assert skipped is not None and skipped.status == "skipped"
    assert "skipped" in warning and "still going" in warning
    assert _about(caplog, "olivia", logging.INFO) == []
    assert settings.secret_key not in caplog.text


def test_failing_run_logs_no_token_from_its_error(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    cron = add_cron(settings, "olivia")
    # Built here so that the traceback's source line does not show it.
    token = "ya29." + "a0AfH6SMBx-secret"

    def leaks(**_: Any) -> TickOutcome:
        raise RuntimeError(f"refresh failed for token {token}")

    with caplog.at_level(logging.DEBUG):
        info = _tick(settings, cron.id, cron.next_runs[0], leaks)

    assert info is not None and info.status == "error"
    [error] = _about(caplog, "olivia", logging.ERROR)
    assert "Traceback" in error and "RuntimeError: refresh failed for token" in error
    assert token not in caplog.text
