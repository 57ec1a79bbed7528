"""Tenants: validated on the way in, and deleted with every row of theirs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import db, jobs, tenants
from core.errors import InvalidInput
from core.models import GmailCredential, ProcessedMessage, Thread
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
