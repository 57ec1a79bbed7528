"""The main job on real mail: Enron mailboxes, the real scheduler, the whole path.

Mail reaches each tenant over several ticks of the production scheduler (a seconds
schedule, allowed because the test lowers MIN_INTERVAL_SECONDS); afterwards every
message is processed exactly once, threads match what the source reported, no tenant
sees another's mail, and the console's metrics agree with the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import crons, crypto, db, demo, jobs, metrics, tenants
from core.agent.runtime import graph_for
from core.mail.folder import message_files, read_file
from core.mail.threading import normalise_subject
from core.models import JobRun, ProcessedMessage, TenantInfo, Thread, User
from core.scheduler import Scheduler
from core.settings import Settings
from core.viewer import Viewer
from tests.fakes.fake_gmail import FakeGmail
from tests.mail_support import connect_tenant, folder_expectations

EVERY_TWO_SECONDS = "*/2 * * * * *"
ADMIN = Viewer.admin()


@pytest.fixture
def e2e_settings(
    configure: Callable[..., Settings], fake_gmail: FakeGmail, tmp_path: Path
) -> Settings:
    settings = configure(
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}",
        SECRET_KEY=crypto.new_key(),
        MIN_INTERVAL_SECONDS="1",
        LEASE_SECONDS="3",
        GOOGLE_API_ENDPOINT=fake_gmail.url,
        GOOGLE_BATCH_URI=fake_gmail.batch_uri,
        GOOGLE_TOKEN_URI=fake_gmail.token_uri,
        GMAIL_RETRY_BASE_SECONDS="0.001",
    )
    db.upgrade(settings)
    return settings


@pytest.fixture
def scheduler(e2e_settings: Settings) -> Iterator[Scheduler]:
    made = Scheduler(e2e_settings)
    yield made
    made.shutdown(timeout=10)


def _rows(settings: Settings, query: sa.Select) -> list[sa.Row]:
    with db.get_engine(settings).connect() as conn:
        return list(conn.execute(query))


def _processed(settings: Settings) -> Counter[str]:
    rows = _rows(settings, sa.select(ProcessedMessage.owner))
    return Counter(row.owner for row in rows)


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _deliver(fake: FakeGmail, email: str, files: list[Path]) -> list[str]:
    # Delivered now, as new mail arrives: the first sync has already happened.
    now = datetime.now(UTC)
    return [
        fake.add_message(email, path.read_bytes(), internal_date=now) for path in files
    ]


def test_enron_mail_over_gmail_is_processed_once_per_message_by_the_scheduler(
    e2e_settings: Settings,
    fake_gmail: FakeGmail,
    scheduler: Scheduler,
    enron_people: list[Path],
) -> None:
    settings = e2e_settings
    people = {p.name: sorted(p.glob("*.eml")) for p in enron_people}
    addresses = {name: f"{name}@enron.example" for name in people}
    for name, email in addresses.items():
        connect_tenant(fake_gmail, settings, user_id=name, email=email)
        crons.create_or_update_cron(
            user_id=name, email=email, actor="test", schedule=EVERY_TWO_SECONDS
        )
    scheduler.start()
    _wait_for(
        lambda: all(_cursor_set(settings, name) for name in people), 20, "first sync"
    )

    delivered: dict[str, list[str]] = {name: [] for name in people}
    for part in range(3):
        for name, files in people.items():
            batch = files[part::3]
            delivered[name] += _deliver(fake_gmail, addresses[name], batch)
        expected = {name: len(ids) for name, ids in delivered.items()}
        _wait_for(
            lambda want=expected: _processed(settings) == want, 90, f"delivery {part}"
        )
    scheduler.shutdown(timeout=10)

    _assert_each_message_once(settings, delivered)
    fetched = _rows(settings, sa.select(sa.func.sum(JobRun.emails_fetched)))[0][0]
    assert fetched == sum(len(ids) for ids in delivered.values())
    _assert_threads_match_the_source(settings, fake_gmail, addresses)
    _assert_no_cross_tenant_threads(settings, delivered)
    _assert_metrics_match_the_database(settings)
    _assert_an_idle_tick_costs_one_cheap_call(settings, fake_gmail, list(people))
    ticks = _rows(settings, sa.select(JobRun.user_id).where(JobRun.status == "ok"))
    assert min(Counter(r.user_id for r in ticks).values()) >= 4


def _cursor_set(settings: Settings, user_id: str) -> bool:
    rows = _rows(settings, sa.select(User.cursor).where(User.user_id == user_id))
    return bool(rows and rows[0].cursor)


def _assert_each_message_once(
    settings: Settings, delivered: dict[str, list[str]]
) -> None:
    rows = _rows(
        settings, sa.select(ProcessedMessage.owner, ProcessedMessage.message_id)
    )
    seen = Counter((row.owner, row.message_id) for row in rows)
    assert max(seen.values()) == 1
    assert {k for k in seen} == {
        (owner, message_id) for owner, ids in delivered.items() for message_id in ids
    }


def _assert_threads_match_the_source(
    settings: Settings, fake: FakeGmail, addresses: dict[str, str]
) -> None:
    for owner, email in addresses.items():
        box = fake.mailboxes[email]
        source_threads = {m.thread_id for m in box.messages.values()}
        stored = _rows(
            settings, sa.select(Thread.source_thread_id).where(Thread.owner == owner)
        )
        assert {row.source_thread_id for row in stored} == source_threads, owner


def _assert_no_cross_tenant_threads(
    settings: Settings, delivered: dict[str, list[str]]
) -> None:
    owner_of = {mid: owner for owner, ids in delivered.items() for mid in ids}
    rows = _rows(
        settings,
        sa.select(
            ProcessedMessage.owner,
            ProcessedMessage.message_id,
            Thread.owner.label("thread_owner"),
        ).join(Thread, Thread.thread_id == ProcessedMessage.thread_id),
    )
    for row in rows:
        assert owner_of[row.message_id] == row.owner == row.thread_owner


def _assert_metrics_match_the_database(settings: Settings) -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    summary = metrics.window_summary(viewer=ADMIN, since=since, settings=settings)
    per_tenant = metrics.threads_per_tenant(viewer=ADMIN, settings=settings)
    counted = _rows(
        settings,
        sa.select(sa.func.count()).where(JobRun.status.in_(metrics.COUNTED_STATUSES)),
    )[0][0]
    threads = Counter(r.owner for r in _rows(settings, sa.select(Thread.owner)))

    assert summary.runs == counted
    assert summary.threads_created == sum(threads.values())
    assert dict(zip(per_tenant.user_id, per_tenant.threads, strict=True)) == threads

    statuses = metrics.tenants_by_status(viewer=ADMIN, settings=settings)
    per_minute = metrics.runs_per_minute(viewer=ADMIN, since=since, settings=settings)
    worst = metrics.error_rate_by_tenant(viewer=ADMIN, since=since, settings=settings)
    all_runs = _rows(settings, sa.select(sa.func.count()).select_from(JobRun))[0][0]
    failed = _rows(
        settings,
        sa.select(sa.func.count()).where(JobRun.status.in_(metrics.FAILED_STATUSES)),
    )[0][0]
    assert dict(zip(statuses.status, statuses.tenants, strict=True)) == {
        "active": len(threads)
    }
    assert int(per_minute.runs.sum()) == all_runs
    assert (summary.errors, int(worst.errors.sum())) == (failed, failed)
    assert sorted(worst.user_id) == sorted(threads)


def _assert_an_idle_tick_costs_one_cheap_call(
    settings: Settings, fake: FakeGmail, owners: list[str]
) -> None:
    fake.reset_counts()

    runs = [jobs.run_now(user_id=o, actor="test", settings=settings) for o in owners]

    assert {run.emails_fetched for run in runs} == {0}
    assert dict(fake.counts) == {"history.list": len(owners)}


def test_empty_subjects_are_never_merged_into_one_thread(
    e2e_settings: Settings, enron_people: list[Path], tmp_path: Path
) -> None:
    box = tmp_path / "box"
    box.mkdir()
    for i, subject in enumerate(["RE:", "Re: ", "FW:", ""]):
        (box / f"{i}.eml").write_text(
            f"From: sender{i}@example.org\nTo: me@example.com\nSubject: {subject}\n"
            f"Date: Mon, 2 Nov 2026 10:0{i}:00 +0000\n"
            f"Message-ID: <empty-{i}@example.org>\n\nbody {i}\n"
        )
    tenants.create_or_update_tenant(
        user_id="me", email="me@example.com", actor="test", mailbox_path=str(box)
    )
    crons.create_or_update_cron(user_id="me", email="me@example.com", actor="test")

    run = jobs.run_now(user_id="me", actor="test", settings=e2e_settings)

    subjects = [normalise_subject(s) for s in ["RE:", "Re: ", "FW:", ""]]
    assert subjects == ["", "", "", ""]
    assert (run.emails_fetched, run.threads_created) == (4, 4)


def test_enron_mail_from_folders_drips_in_over_several_scheduled_ticks(
    e2e_settings: Settings, scheduler: Scheduler, enron_people: list[Path]
) -> None:
    settings = e2e_settings
    loaded = demo.load_demo(
        settings=settings, mailboxes=enron_people[0].parent, drip=60
    )
    for tenant in loaded:
        crons.reschedule_cron(
            user_id=tenant.user_id, actor="test", schedule=EVERY_TWO_SECONDS
        )
    wanted = {
        t.user_id: folder_expectations(Path(t.mailbox_path or "")) for t in loaded
    }

    scheduler.start()
    _wait_for(
        lambda: _processed(settings) == {u: m for u, (m, _) in wanted.items()},
        120,
        "every folder message",
    )
    scheduler.shutdown(timeout=10)

    threads = Counter(r.owner for r in _rows(settings, sa.select(Thread.owner)))
    assert threads == {u: keys for u, (_, keys) in wanted.items()}
    _assert_empty_subjects_stand_alone(settings, loaded)
    fetched = _rows(
        settings,
        sa.select(JobRun.user_id, JobRun.emails_fetched).where(JobRun.status == "ok"),
    )
    assert max(r.emails_fetched for r in fetched) == 60
    assert sum(r.emails_fetched for r in fetched) == sum(m for m, _ in wanted.values())


def _assert_empty_subjects_stand_alone(
    settings: Settings, loaded: list[TenantInfo]
) -> None:
    """A message with an empty subject that replies to nothing has its own thread."""
    thread_of = {
        (row.owner, row.message_id): row.thread_id
        for row in _rows(
            settings,
            sa.select(
                ProcessedMessage.owner,
                ProcessedMessage.message_id,
                ProcessedMessage.thread_id,
            ),
        )
    }
    members = Counter(thread_of.values())
    lonely = 0
    for tenant in loaded:
        for path in message_files(Path(tenant.mailbox_path or "")):
            record = read_file(path).record
            if record is None or normalise_subject(record.subject):
                continue
            if record.in_reply_to or record.references:
                continue
            lonely += 1
            assert members[thread_of[(tenant.user_id, record.id)]] == 1, path
    # The Enron mail has such messages, so this is not vacuously true.
    assert lonely > 0


def test_killing_the_worker_mid_tick_loses_and_duplicates_nothing(
    e2e_settings: Settings, mail_data: Path
) -> None:
    settings = e2e_settings
    # One tenant holding every Enron mailbox: a tick long enough to be cut.
    mailbox = mail_data / "enron"
    tenants.create_or_update_tenant(
        user_id="all",
        email="all@enron.example",
        actor="test",
        mailbox_path=str(mailbox),
    )
    crons.create_or_update_cron(
        user_id="all", email="all@enron.example", actor="test", schedule="* * * * * *"
    )
    messages, thread_keys = folder_expectations(mailbox)
    count = lambda: _processed(settings)["all"]  # noqa: E731

    first = _start_worker(settings)
    try:
        _wait_for(lambda: 0 < count(), 60, "the first tick to start processing")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    cut_at = count()
    second = _start_worker(settings)
    try:
        _wait_for(lambda: count() == messages, 120, "the restarted worker to finish")
    finally:
        second.terminate()
        second.wait(timeout=20)

    statuses = Counter(r.status for r in _rows(settings, sa.select(JobRun.status)))
    threads = _rows(settings, sa.select(Thread.thread_id).where(Thread.owner == "all"))
    assert 0 < cut_at < messages
    assert len(threads) == thread_keys
    assert statuses["abandoned"] == 1
    assert statuses["running"] == 0
    _assert_conversations_hold_each_message_once(settings, "all")


def _assert_conversations_hold_each_message_once(
    settings: Settings, owner: str
) -> None:
    """The checkpointed conversation of every thread: its messages, none twice."""
    by_thread: dict[str, set[str]] = {}
    query = sa.select(ProcessedMessage.thread_id, ProcessedMessage.message_id).where(
        ProcessedMessage.owner == owner
    )
    for row in _rows(settings, query):
        by_thread.setdefault(row.thread_id, set()).add(row.message_id)
    graph = graph_for(settings)
    for thread_id, message_ids in by_thread.items():
        state = graph.get_state({"configurable": {"thread_id": thread_id}})
        ids = [email["id"] for email in state.values["emails"]]
        assert sorted(ids) == sorted(message_ids), thread_id


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "MIN_INTERVAL_SECONDS": "1",
        "LEASE_SECONDS": "3",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "core", "worker"],
        env=env,
        cwd=settings.data_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
