"""Tenants: create, read, change status, and delete with all their data."""

from __future__ import annotations

import importlib
import logging
import re
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import audit, changes
from core.db import session_scope
from core.errors import InvalidInput, UnknownTenant
from core.models import (
    MAIL_SOURCES,
    TENANT_STATUSES,
    AuditEvent,
    GmailCredential,
    JobRun,
    OAuthState,
    ProcessedMessage,
    TenantInfo,
    Thread,
    User,
    UserCron,
)
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer

log = logging.getLogger(__name__)

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
USER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
# LangGraph's checkpointers keep these per thread_id; checkpoint_migrations is shared.
CHECKPOINT_TABLES = ("checkpoints", "writes", "checkpoint_blobs", "checkpoint_writes")
EDITABLE = (
    "email",
    "display_name",
    "mail_source",
    "mailbox_path",
    "release_per_tick",
    "is_demo",
    "prefs",
)


def normalise_email(email: str) -> str:
    cleaned = (email or "").strip().casefold()
    # Control characters (NUL above all) fit the pattern but not PostgreSQL text.
    if not EMAIL_PATTERN.fullmatch(cleaned) or not cleaned.isprintable():
        raise InvalidInput(f"{email!r} is not an email address.")
    return cleaned


def check_user_id(user_id: str) -> None:
    # fullmatch: `$` alone would let a trailing newline through.
    if not USER_ID_PATTERN.fullmatch(user_id or ""):
        raise InvalidInput(
            f"{user_id!r} is not a usable user id; use letters, digits and . _ @ + -."
        )


def to_info(user: User) -> TenantInfo:
    return TenantInfo.model_validate(user, from_attributes=True)


def _state(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {name: getattr(user, name) for name in (*EDITABLE, "status")}


def create_or_update_tenant(
    *,
    user_id: str,
    email: str,
    actor: str,
    display_name: str = "",
    mail_source: str = "folder",
    mailbox_path: str | None = None,
    release_per_tick: int | None = None,
    is_demo: bool = False,
    prefs: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> TenantInfo:
    """Create the tenant or bring it to these values; the same call twice is a no-op."""
    check_user_id(user_id)
    wanted: dict[str, Any] = {
        "email": normalise_email(email),
        "display_name": display_name,
        "mail_source": mail_source,
        "mailbox_path": mailbox_path,
        "release_per_tick": release_per_tick,
        "is_demo": is_demo,
        "prefs": dict(prefs or {}),
    }
    if mail_source not in MAIL_SOURCES:
        raise InvalidInput(
            f"Unknown mail source {mail_source!r}; use {' or '.join(MAIL_SOURCES)}."
        )

    with session_scope(settings) as session:
        _check_email_free(session, wanted["email"], user_id)
        user = session.get(User, user_id)
        before = _state(user)
        if user is None:
            user = User(user_id=user_id, **wanted)
        elif all(getattr(user, k) == v for k, v in wanted.items()):
            return to_info(user)
        else:
            for key, value in wanted.items():
                setattr(user, key, value)
            user.updated_at = utcnow()
        session.add(user)
        action = "tenant.create" if before is None else "tenant.update"
        audit.record(
            session,
            actor=actor,
            action=action,
            user_id=user_id,
            cron_id=None,
            before=before,
            after=_state(user),
        )
        session.flush()
        info = to_info(user)
    log.info("%s %s by %s", action, user_id, actor)
    return info


def _check_email_free(session: Session, email: str, user_id: str) -> None:
    taken = session.exec(
        select(User.user_id).where(User.email == email, User.user_id != user_id)
    ).first()
    if taken is not None:
        raise InvalidInput(f"The email {email} already belongs to another tenant.")


def update_tenant(
    *, user_id: str, actor: str, settings: Settings | None = None, **changes: Any
) -> TenantInfo:
    """Change only the given fields (any of EDITABLE); the rest stay as they are."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    current = get_tenant(user_id=user_id, settings=settings)
    fields = {name: getattr(current, name) for name in EDITABLE} | changes
    return create_or_update_tenant(
        user_id=user_id, actor=actor, settings=settings, **fields
    )


def get_tenant(
    *, user_id: str, viewer: Viewer | None = None, settings: Settings | None = None
) -> TenantInfo:
    """The tenant; UnknownTenant also when the viewer may not see them."""
    if viewer is not None and not viewer.may_see(user_id):
        raise UnknownTenant(user_id)
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        if user is None:
            raise UnknownTenant(user_id)
        return to_info(user)


def list_tenants(
    *,
    viewer: Viewer,
    status: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 50,
    settings: Settings | None = None,
) -> list[TenantInfo]:
    query = select(User).order_by(User.user_id).offset(offset).limit(limit)
    if not viewer.is_admin:
        query = query.where(User.user_id == viewer.user_id)
    if status:
        query = query.where(User.status == status)
    if search:
        pattern = f"%{search.casefold()}%"
        query = query.where(
            col(User.user_id).ilike(pattern) | col(User.email).ilike(pattern)
        )
    with session_scope(settings) as session:
        return [to_info(user) for user in session.exec(query)]


def set_tenant_status(
    *,
    user_id: str,
    status: str,
    actor: str,
    session: Session | None = None,
    settings: Settings | None = None,
) -> TenantInfo:
    """Set `active`, `needs_reauth` or `disabled`; inside `session` when given."""
    if status not in TENANT_STATUSES:
        raise InvalidInput(
            f"Unknown tenant status {status!r}; use {', '.join(TENANT_STATUSES)}."
        )
    if session is not None:
        return _set_status(session, user_id, status, actor)
    with session_scope(settings) as own:
        return _set_status(own, user_id, status, actor)


def _set_status(session: Session, user_id: str, status: str, actor: str) -> TenantInfo:
    user = session.get(User, user_id)
    if user is None:
        raise UnknownTenant(user_id)
    if user.status != status:
        before = _state(user)
        user.status = status
        user.updated_at = utcnow()
        session.add(user)
        audit.record(
            session,
            actor=actor,
            action="tenant.status",
            user_id=user_id,
            cron_id=None,
            before=before,
            after=_state(user),
        )
        log.info("tenant %s is now %s (by %s)", user_id, status, actor)
    return to_info(user)


def _revoke_credentials(user_id: str, settings: Settings | None) -> None:
    # The Gmail module may be absent (folder-only installs); revoking is best effort
    # so that a dead provider never keeps a tenant's data against their wish.
    try:
        module = importlib.import_module("core.mail.credentials")
    except ImportError:
        return
    revoke = getattr(module, "revoke", None)
    if revoke is None:
        return
    try:
        revoke(user_id=user_id, settings=settings)
    except Exception as err:
        log.warning(
            "could not revoke the Gmail grant of %s (%s); deleting anyway",
            user_id,
            type(err).__name__,
        )


def delete_tenant(
    *, user_id: str, actor: str, settings: Settings | None = None
) -> dict[str, int]:
    """Remove every row of the tenant in every table; returns rows deleted per table.

    What stays is one audit event naming the user id and the counts: the record
    that the deletion happened, with none of their data.
    """
    get_tenant(user_id=user_id, settings=settings)
    _revoke_credentials(user_id, settings)

    with session_scope(settings) as session:
        thread_ids = list(
            session.exec(select(Thread.thread_id).where(Thread.owner == user_id))
        )
        counts = _delete_checkpoints(session, thread_ids)
        for table, column in (
            (ProcessedMessage, ProcessedMessage.owner),
            (Thread, Thread.owner),
            (JobRun, JobRun.user_id),
            (UserCron, UserCron.user_id),
            (GmailCredential, GmailCredential.user_id),
            (OAuthState, OAuthState.user_id),
            (AuditEvent, AuditEvent.user_id),
            (User, User.user_id),
        ):
            statement = sa.delete(table).where(col(column) == user_id)
            counts[table.__tablename__] = (
                session.connection().execute(statement).rowcount
            )
        audit.record(
            session,
            actor=actor,
            action="tenant.delete",
            user_id=user_id,
            cron_id=None,
            before={"deleted_rows": sum(counts.values())},
            after=None,
        )
    changes.notify()
    log.warning("tenant %s and all their data deleted by %s", user_id, actor)
    return counts


def _delete_checkpoints(session: Session, thread_ids: list[str]) -> dict[str, int]:
    # Inspect through the session's own connection: on SQLite a second connection
    # would wait for this transaction's write lock.
    present = set(sa.inspect(session.connection()).get_table_names())
    counts: dict[str, int] = {}
    for table in CHECKPOINT_TABLES:
        if table not in present or not thread_ids:
            continue
        deleted = 0
        for start in range(0, len(thread_ids), 500):
            chunk = thread_ids[start : start + 500]
            statement = sa.text(
                f"DELETE FROM {table} WHERE thread_id IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True))
            deleted += session.connection().execute(statement, {"ids": chunk}).rowcount
        counts[table] = deleted
    return counts
