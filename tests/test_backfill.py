"""`backfill-owner-metadata` on threads and checkpoints of an untagged deployment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import db
from core.agent import service
from core.agent.checkpoint import get_checkpointer
from core.backfill import backfill_owner_metadata
from core.models import ProcessedMessage, Thread
from core.settings import Settings
from tests.agent.kit import add_tenant, record, restart
from tests.cli_support import cli, cli_json, record_lines

STRIP_OWNER = {
    "sqlite": "UPDATE checkpoints SET metadata = "
    "CAST(json_remove(CAST(metadata AS TEXT), '$.owner') AS BLOB)",
    "postgresql": "UPDATE checkpoints SET metadata = metadata - 'owner'",
}


@pytest.fixture
def old_deployment(settings: Settings) -> Iterator[dict[str, str]]:
    """Threads of two tenants with every owner stripped, as an old version left them.

    One thread lost its processed_messages rows (only its id tells the owner), and
    one belongs to nobody known."""
    olivia = add_tenant(settings, "olivia", "olivia@acme.example")
    theo = add_tenant(settings, "theo", "theo@acme.example")
    owners = {}
    for tenant, message, key in (
        (olivia, "m1", "t-1"),
        (olivia, "m2", "t-2"),
        (theo, "m3", "t-1"),
    ):
        outcome = service.process_email(
            tenant=tenant, email=record(id=message, thread_key=key), settings=settings
        )
        owners[outcome.thread_id] = tenant.user_id
    restart()

    orphan = str(uuid.uuid4())
    with db.session_scope(settings) as session:
        session.add(Thread(thread_id=orphan, source_thread_id="lost"))
        session.execute(sa.update(Thread).values(owner=None))
        session.execute(
            sa.delete(ProcessedMessage).where(ProcessedMessage.message_id == "m2")
        )
        session.execute(sa.text(STRIP_OWNER[session.connection().dialect.name]))
    yield owners
    restart()


def _checkpoint_owners(settings: Settings) -> dict[str, set[str | None]]:
    found: dict[str, set[str | None]] = {}
    for item in get_checkpointer(settings).list(None):
        thread_id = item.config["configurable"]["thread_id"]
        found.setdefault(thread_id, set()).add(item.metadata.get("owner"))
    return found


def test_backfill_sets_owners_from_the_mail_they_came_from(
    settings: Settings, old_deployment: dict[str, str]
) -> None:
    checkpoints = sum(1 for _ in get_checkpointer(settings).list(None))
    restart()

    dry = cli_json(settings, "backfill-owner-metadata", "--dry-run")
    with db.session_scope(settings) as session:
        untouched = session.exec(select(Thread.owner)).all()
    done = cli_json(settings, "backfill-owner-metadata")
    again = backfill_owner_metadata(settings=settings)

    expected = {
        "threads_updated": 3,
        "threads_unresolved": 1,
        "checkpoints_updated": checkpoints,
        "checkpoints_unresolved": 0,
    }
    assert dry == expected | {"dry_run": True}
    assert untouched == [None] * 4
    assert done == expected | {"dry_run": False}
    assert again.as_dict() == expected | {
        "threads_updated": 0,
        "checkpoints_updated": 0,
        "dry_run": False,
    }
    with db.session_scope(settings) as session:
        rows = dict(session.exec(select(Thread.thread_id, Thread.owner)).all())
    assert {t: rows[t] for t in old_deployment} == old_deployment
    assert sorted(rows.values(), key=str) == [None, "olivia", "olivia", "theo"]
    assert _checkpoint_owners(settings) == {
        thread_id: {owner} for thread_id, owner in old_deployment.items()
    }
    tagged = get_checkpointer(settings).list(None, filter={"owner": "theo"})
    assert {item.config["configurable"]["thread_id"] for item in tagged} == {
        t for t, owner in old_deployment.items() if owner == "theo"
    }


def test_backfill_without_json_prints_the_counts(
    settings: Settings, old_deployment: dict[str, str]
) -> None:
    checkpoints = sum(1 for _ in get_checkpointer(settings).list(None))
    restart()

    dry = cli(settings, "backfill-owner-metadata", "--dry-run")
    done = cli(settings, "backfill-owner-metadata")

    counts = {
        "threads updated": "3",
        "threads unresolved": "1",
        "checkpoints updated": str(checkpoints),
        "checkpoints unresolved": "0",
    }
    assert dry.returncode == done.returncode == 0, dry.stderr + done.stderr
    assert record_lines(dry.stdout) == counts | {"dry run": "True"}
    assert record_lines(done.stdout) == counts | {"dry run": "False"}
