"""The schema as the migrations build it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from core import crypto, db
from core.settings import Settings

EXPECTED_TABLES = {
    "users",
    "user_crons",
    "gmail_credentials",
    "job_runs",
    "threads",
    "processed_messages",
    "audit_events",
    "scheduler_leases",
    "oauth_states",
}
EXPECTED_INDEXES = {
    "job_runs": {
        "ix_job_runs_user_started",
        "ix_job_runs_status_started",
        "ix_job_runs_started",
        "uq_job_runs_one_running",
    },
    "threads": {"ix_threads_owner_updated", "ix_threads_owner_created"},
    "audit_events": {"ix_audit_events_user_at"},
}


@pytest.fixture
def empty_db(configure: Callable[..., Settings], backend_url: str) -> Settings:
    return configure(DATABASE_URL=backend_url, SECRET_KEY=crypto.new_key())


def _inspect(settings: Settings) -> sa.Inspector:
    return sa.inspect(db.get_engine(settings))


def test_upgrade_creates_every_table_and_index(empty_db: Settings) -> None:
    db.upgrade(empty_db)

    inspector = _inspect(empty_db)
    assert EXPECTED_TABLES <= set(inspector.get_table_names())
    for table, indexes in EXPECTED_INDEXES.items():
        assert indexes <= {ix["name"] for ix in inspector.get_indexes(table)}
    assert db.is_at_head(empty_db)


def test_models_match_the_migrated_schema(empty_db: Settings) -> None:
    db.upgrade(empty_db)

    with db.get_engine(empty_db).connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)

    assert drift == []


def test_user_crons_has_the_columns_defaults_and_constraints(
    empty_db: Settings,
) -> None:
    db.upgrade(empty_db)
    inspector = _inspect(empty_db)
    is_pg = inspector.dialect.name == "postgresql"

    columns = {c["name"]: c for c in inspector.get_columns("user_crons")}

    assert {
        "id",
        "user_id",
        "cron_id",
        "email",
        "status",
        "schedule",
        "created_at",
        "timezone",
        "updated_at",
        "pause_reason",
        "resume_at",
        "consecutive_failures",
    } <= set(columns)
    for name in ("id", "user_id", "cron_id", "email"):
        assert columns[name]["nullable"] is False, name
    assert "active" in columns["status"]["default"]
    assert "* * * * *" in columns["schedule"]["default"]
    created_default = columns["created_at"]["default"].lower()
    assert "now()" in created_default or "current_timestamp" in created_default
    assert inspector.get_pk_constraint("user_crons")["constrained_columns"] == ["id"]
    uniques = [
        u["column_names"] for u in inspector.get_unique_constraints("user_crons")
    ]
    assert ["user_id"] in uniques
    if is_pg:
        assert str(columns["id"]["type"]) == "UUID"
        assert str(columns["created_at"]["type"]) == "TIMESTAMP"
        assert columns["created_at"]["type"].timezone is True
        assert str(columns["user_id"]["type"]) == "TEXT"


def test_user_crons_defaults_apply_to_a_bare_insert(empty_db: Settings) -> None:
    db.upgrade(empty_db)
    engine = db.get_engine(empty_db)
    row_id = "0b3f1b2e-4d1a-4c55-9a66-0a8f1f0c9b11"
    id_value = (
        row_id if engine.dialect.name == "postgresql" else row_id.replace("-", "")
    )

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO user_crons (id, user_id, cron_id, email, timezone) "
                "VALUES (:id, 'u1', 'job-u1', 'u1@example.com', 'UTC')"
            ),
            {"id": id_value},
        )
        row = conn.execute(
            sa.text("SELECT status, schedule, created_at FROM user_crons")
        ).one()

    assert row.status == "active"
    assert row.schedule == "* * * * *"
    assert row.created_at is not None


def test_status_outside_active_and_paused_is_refused(empty_db: Settings) -> None:
    db.upgrade(empty_db)
    engine = db.get_engine(empty_db)
    row_id = "1" * 32  # a UUID's hex form, accepted by both backends

    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO user_crons (id, user_id, cron_id, email, timezone, "
                "status) VALUES (:id, 'u1', 'c', 'e', 'UTC', 'sleeping')"
            ),
            {"id": row_id},
        )


def test_downgrade_to_base_and_upgrade_again(empty_db: Settings) -> None:
    db.upgrade(empty_db)

    db.downgrade(empty_db, "base")
    left = set(_inspect(empty_db).get_table_names()) & EXPECTED_TABLES
    db.upgrade(empty_db)

    assert left == set()
    assert EXPECTED_TABLES <= set(_inspect(empty_db).get_table_names())
    assert db.is_at_head(empty_db)


def test_two_concurrent_upgrades_leave_one_correct_schema(
    empty_db: Settings, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": empty_db.database_url,
        "SECRET_KEY": empty_db.secret_key,
        "DATA_DIR": str(empty_db.data_dir),
        "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "-m", "core", "db", "upgrade"]

    procs = [
        subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]

    assert [code for code, _ in results] == [0, 0], results
    assert db.is_at_head(empty_db)
    with db.get_engine(empty_db).connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert len(versions.all()) == 1
        drift = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert drift == []
