"""Tenants: validated on the way in, and deleted with every row of theirs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import crons, db, jobs, provisioning, tenants
from core.errors import InvalidInput
from core.models import (
    AuditEvent,
    GmailCredential,
    JobRun,
    ProcessedMessage,
    Thread,
    UserCron,
)
from core.settings import Settings
from core.viewer import Viewer
from tests.sched_helpers import ADMIN, add_cron, no_work

CHECKPOINT_DDL = [
    "CREATE TABLE checkpoints (thread_id TEXT, checkpoint_id TEXT, data TEXT)",
    "CREATE TABLE writes (thread_id TEXT, idx INTEGER)",
    "CREATE TABLE checkpoint_blobs (thread_id TEXT, channel TEXT)",
    "CREATE TABLE checkpoint_writes (thread_id TEXT, task_id TEXT)",
]


def test_create_tenant_case_folds_the_email(settings: Settings) -> None:
    info = tenants.create_or_update_tenant(
        user_id="olivia",
        email="  Olivia@ACME.example ",
        actor=ADMIN,
        settings=settings,
    )

    assert info.email == "olivia@acme.example"


def test_create_tenant_refuses_a_bad_email(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="is not an email address"):
        tenants.create_or_update_tenant(
            user_id="olivia", email="olivia-at-acme", actor=ADMIN, settings=settings
        )

    assert tenants.list_tenants(viewer=Viewer.admin(), settings=settings) == []


def _fill(settings: Settings, user_id: str) -> None:
    add_cron(settings, user_id)
    jobs.run_now(user_id=user_id, actor=ADMIN, settings=settings, work=no_work)
    with db.session_scope(settings) as session:
        session.add(
            Thread(
                thread_id=f"t-{user_id}", owner=user_id, source_thread_id=f"s-{user_id}"
            )
        )
        session.add(
            ProcessedMessage(
                owner=user_id, message_id=f"m-{user_id}", thread_id=f"t-{user_id}"
            )
        )
        session.add(GmailCredential(user_id=user_id, token_encrypted="sealed"))
        for table in ("checkpoints", "writes", "checkpoint_blobs", "checkpoint_writes"):
            session.execute(
                sa.text(f"INSERT INTO {table} (thread_id) VALUES (:t)"),
                {"t": f"t-{user_id}"},
            )


def _rows_mentioning(settings: Settings, value: str) -> list[str]:
    """Every table.row whose any column holds `value` (text match)."""
    found = []
    engine = db.get_engine(settings)
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                if any(value in str(cell) for cell in row):
                    found.append(f"{table}: {tuple(row)}")
    return found


def test_delete_tenant_leaves_no_row_of_theirs(settings: Settings) -> None:
    with db.get_engine(settings).begin() as conn:
        for ddl in CHECKPOINT_DDL:
            conn.execute(sa.text(ddl))
    _fill(settings, "olivia")
    _fill(settings, "oscar")

    counts = tenants.delete_tenant(user_id="olivia", actor=ADMIN, settings=settings)

    leftovers = _rows_mentioning(settings, "olivia")
    assert len(leftovers) == 1 and leftovers[0].startswith("audit_events")
    assert "tenant.delete" in leftovers[0]
    assert counts["checkpoints"] == 1 and counts["job_runs"] == 1
    assert len(_rows_mentioning(settings, "oscar")) > 5


def _small_folder(source: Path, target: Path, count: int = 8) -> Path:
    target.mkdir()
    for path in sorted(source.glob("*.eml"))[:count]:
        shutil.copy(path, target / path.name)
    return target


def _processed_tenant(settings: Settings, user_id: str, folder: Path) -> None:
    """A folder tenant with a cron, a stored grant and one real tick done."""
    tenants.create_or_update_tenant(
        user_id=user_id,
        email=f"{user_id}@enron.example",
        actor=ADMIN,
        mailbox_path=str(folder),
        settings=settings,
    )
    crons.create_or_update_cron(
        user_id=user_id,
        email=f"{user_id}@enron.example",
        actor=ADMIN,
        settings=settings,
    )
    with db.session_scope(settings) as session:
        session.add(GmailCredential(user_id=user_id, token_encrypted="sealed"))
    run = jobs.run_now(user_id=user_id, actor=ADMIN, settings=settings)
    assert run.status == "ok" and run.threads_created > 0, run.error_message


def _thread_ids(settings: Settings, user_id: str) -> list[str]:
    with db.session_scope(settings) as session:
        query = select(Thread.thread_id).where(Thread.owner == user_id)
        return list(session.exec(query))


# The app's own tables that name a thread; every other one is the checkpointer's.
APP_THREAD_TABLES = {"threads", "processed_messages"}


def _checkpoint_rows(settings: Settings, thread_ids: list[str]) -> dict[str, int]:
    """Rows of these threads in each checkpointer table found on the database."""
    engine = db.get_engine(settings)
    inspector = sa.inspect(engine)
    tables = [
        table
        for table in sorted(inspector.get_table_names())
        if table not in APP_THREAD_TABLES
        and "thread_id" in {column["name"] for column in inspector.get_columns(table)}
    ]
    counts = {}
    with engine.connect() as conn:
        for table in tables:
            statement = sa.text(
                f"SELECT count(*) FROM {table} WHERE thread_id IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True))
            counts[table] = conn.execute(statement, {"ids": thread_ids}).scalar_one()
    return counts


def _owned_rows(settings: Settings, user_id: str) -> dict[str, int]:
    owned = {
        "processed_messages": ProcessedMessage.owner,
        "threads": Thread.owner,
        "job_runs": JobRun.user_id,
        "user_crons": UserCron.user_id,
        "gmail_credentials": GmailCredential.user_id,
    }
    with db.get_engine(settings).connect() as conn:
        return {
            table: conn.execute(
                sa.select(sa.func.count()).where(column == user_id)
            ).scalar_one()
            for table, column in owned.items()
        }


def _audit_actions(settings: Settings, user_id: str) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.user_id == user_id)
    with db.session_scope(settings) as session:
        return sorted(session.exec(query))


def test_delete_tenant_removes_the_checkpoints_of_their_real_threads(
    settings: Settings, enron_people: list[Path], tmp_path: Path
) -> None:
    folder = _small_folder(enron_people[4], tmp_path / "box")
    _processed_tenant(settings, "olivia", folder)
    _processed_tenant(settings, "oscar", folder)
    olivia_threads = _thread_ids(settings, "olivia")
    oscar_threads = _thread_ids(settings, "oscar")
    checkpoints = _checkpoint_rows(settings, olivia_threads)
    owned = _owned_rows(settings, "olivia")
    oscar_before = (
        _checkpoint_rows(settings, oscar_threads),
        _owned_rows(settings, "oscar"),
        len(_rows_mentioning(settings, "oscar")),
    )

    tenants.delete_tenant(user_id="olivia", actor=ADMIN, settings=settings)

    # The tables LangGraph's savers keep per thread on each backend.
    saver_tables = (
        {"checkpoints", "writes"}
        if settings.is_sqlite
        else {"checkpoints", "checkpoint_blobs", "checkpoint_writes"}
    )
    assert set(checkpoints) == saver_tables
    assert all(count > 0 for count in (*checkpoints.values(), *owned.values()))
    assert _checkpoint_rows(settings, olivia_threads) == dict.fromkeys(checkpoints, 0)
    assert _owned_rows(settings, "olivia") == dict.fromkeys(owned, 0)
    # By design one audit event stays: that the deletion happened, by whom.
    assert _audit_actions(settings, "olivia") == ["tenant.delete"]
    leftovers = _rows_mentioning(settings, "olivia")
    assert len(leftovers) == 1 and leftovers[0].startswith("audit_events")
    assert (
        _checkpoint_rows(settings, oscar_threads),
        _owned_rows(settings, "oscar"),
        len(_rows_mentioning(settings, "oscar")),
    ) == oscar_before


@pytest.mark.parametrize(
    ("user_id", "email", "words"),
    [
        ("ann\n", "ann@acme.example", "is not a usable user id"),
        ("ann", "ann\x00@acme.example", "is not an email address"),
        ("ann", "ann@acme.exa\x07mple", "is not an email address"),
    ],
)
def test_control_characters_in_an_id_or_email_are_refused_before_any_write(
    settings: Settings, user_id: str, email: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        provisioning.provision_cron(
            user_id=user_id, email=email, actor="test", settings=settings
        )

    assert tenants.list_tenants(viewer=Viewer.admin(), settings=settings) == []
