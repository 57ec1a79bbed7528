"""Tag with their owner the threads and checkpoints of an older, untagged deployment.

A thread's owner is the tenant whose mail it came from: `processed_messages` names
the owner of every message recorded on the thread, and a thread id is
uuid5(owner, source thread id), so a tenant whose id reproduces it is the owner.
A thread that neither points to exactly one tenant stays untouched and is counted
as unresolved. Checkpoints take the owner of their thread.

Only rows without an owner are written, so a second run changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.agent.runtime import thread_id_for
from core.db import session_scope
from core.models import ProcessedMessage, Thread, User
from core.settings import Settings

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
# The owner read from a checkpoint's metadata, per dialect: SQLite keeps the JSON
# as bytes, PostgreSQL as jsonb.
OWNER_OF = {
    "sqlite": "json_extract(CAST(metadata AS TEXT), '$.owner')",
    "postgresql": "metadata ->> 'owner'",
}
WITH_OWNER = {
    "sqlite": "CAST(json_set(COALESCE(CAST(metadata AS TEXT), '{}'), '$.owner', "
    ":owner) AS BLOB)",
    "postgresql": "COALESCE(metadata, CAST('{}' AS jsonb)) || "
    "jsonb_build_object('owner', CAST(:owner AS text))",
}


@dataclass(frozen=True)
class BackfillReport:
    threads_updated: int
    threads_unresolved: int
    checkpoints_updated: int
    checkpoints_unresolved: int
    dry_run: bool

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def backfill_owner_metadata(
    *, settings: Settings, dry_run: bool = False
) -> BackfillReport:
    """Set the missing owners; with `dry_run`, only count what would change."""
    with session_scope(settings) as session:
        owners = _thread_owners(session)
        threads_unresolved = _untagged_thread_count(session) - len(owners)
        if not dry_run:
            _tag_threads(session, owners)
        checkpoints = _tag_checkpoints(session, owners, dry_run=dry_run)

    report = BackfillReport(
        threads_updated=len(owners),
        threads_unresolved=threads_unresolved,
        checkpoints_updated=checkpoints[0],
        checkpoints_unresolved=checkpoints[1],
        dry_run=dry_run,
    )
    log.info("owner backfill%s: %s", " (dry run)" if dry_run else "", report)
    return report


def _untagged_thread_count(session: Session) -> int:
    query = select(sa.func.count()).select_from(Thread)
    return session.exec(query.where(col(Thread.owner).is_(None))).one()


def _thread_owners(session: Session) -> dict[str, str]:
    """thread_id -> owner for every untagged thread whose owner is certain."""
    untagged = session.exec(
        select(Thread.thread_id, Thread.source_thread_id).where(
            col(Thread.owner).is_(None)
        )
    ).all()
    if not untagged:
        return {}
    by_message = _owners_by_processed_message(session, [t for t, _ in untagged])
    user_ids = list(session.exec(select(User.user_id)))

    owners: dict[str, str] = {}
    for thread_id, source_thread_id in untagged:
        candidates = by_message.get(thread_id) or {
            user_id
            for user_id in user_ids
            if thread_id_for(user_id, source_thread_id) == thread_id
        }
        if len(candidates) == 1:
            owners[thread_id] = candidates.pop()
        else:
            log.warning(
                "thread %s has %d possible owners; left without one",
                thread_id,
                len(candidates),
            )
    return owners


def _owners_by_processed_message(
    session: Session, thread_ids: list[str]
) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for start in range(0, len(thread_ids), 500):
        rows = session.exec(
            select(ProcessedMessage.thread_id, ProcessedMessage.owner)
            .where(col(ProcessedMessage.thread_id).in_(thread_ids[start : start + 500]))
            .distinct()
        )
        for thread_id, owner in rows:
            found.setdefault(thread_id or "", set()).add(owner)
    return found


def _tag_threads(session: Session, owners: dict[str, str]) -> None:
    for thread_id, owner in owners.items():
        session.execute(
            sa.update(Thread)
            .where(col(Thread.thread_id) == thread_id, col(Thread.owner).is_(None))
            .values(owner=owner)
        )


def _tag_checkpoints(
    session: Session, owners: dict[str, str], *, dry_run: bool
) -> tuple[int, int]:
    """(checkpoints tagged, checkpoints left untagged for want of a known owner)."""
    # Through the session's connection: on SQLite a second one would wait for
    # this transaction's write lock.
    conn = session.connection()
    if CHECKPOINTS not in sa.inspect(conn).get_table_names():
        return 0, 0
    dialect = conn.dialect.name
    untagged = conn.execute(
        sa.text(
            f"SELECT thread_id, count(*) FROM {CHECKPOINTS} "
            f"WHERE {OWNER_OF[dialect]} IS NULL GROUP BY thread_id"
        )
    ).all()
    known = _known_owners(session, [thread_id for thread_id, _ in untagged]) | owners

    tagged = unresolved = 0
    for thread_id, count in untagged:
        owner = known.get(thread_id)
        if owner is None:
            unresolved += count
            continue
        if not dry_run:
            conn.execute(
                sa.text(
                    f"UPDATE {CHECKPOINTS} SET metadata = {WITH_OWNER[dialect]} "
                    f"WHERE thread_id = :thread_id AND {OWNER_OF[dialect]} IS NULL"
                ),
                {"owner": owner, "thread_id": thread_id},
            )
        tagged += count
    return tagged, unresolved


def _known_owners(session: Session, thread_ids: list[str]) -> dict[str, str]:
    """Owners of these threads from their rows, else from their one message owner."""
    if not thread_ids:
        return {}
    known: dict[str, str] = {}
    for start in range(0, len(thread_ids), 500):
        rows = session.exec(
            select(Thread.thread_id, Thread.owner).where(
                col(Thread.thread_id).in_(thread_ids[start : start + 500]),
                col(Thread.owner).is_not(None),
            )
        )
        known.update({thread_id: owner for thread_id, owner in rows if owner})
    by_message = _owners_by_processed_message(session, thread_ids)
    for thread_id, candidates in by_message.items():
        if thread_id not in known and len(candidates) == 1:
            known[thread_id] = next(iter(candidates))
    return known
