"""Triage one message under a tenant's preferences, storing nothing.

For tuning rules: the same engine and preferences as a real run, but no graph run,
no thread, no checkpoint.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from core.agent.decision import Decision, TenantView
from core.agent.engines import engine_for
from core.agent.prefs import validate_prefs
from core.agent.review import load_tenant
from core.agent.runtime import prefs_for
from core.errors import InvalidInput, MessageUnparseable
from core.mail.parser import parse_message
from core.mail.record import EmailRecord
from core.mail.record_json import record_from_json
from core.models import TenantInfo
from core.settings import Settings


def dry_run(
    *, tenant: TenantInfo, email: EmailRecord, settings: Settings, engine: Any = None
) -> Decision:
    view = TenantView(
        user_id=tenant.user_id,
        email=tenant.email,
        prefs=validate_prefs(prefs_for(tenant)),
    )
    chosen = engine or engine_for(settings)
    return chosen.triage(tenant=view, conversation=[email.as_dict()])


def dry_run_file(*, path: Path, user_id: str, settings: Settings) -> Decision:
    """The decision for a file: an .eml message or a JSON email record."""
    tenant = load_tenant(settings, user_id)
    email = read_email(path, tenant_email=tenant.email)
    return dry_run(tenant=tenant, email=email, settings=settings)


def read_email(path: Path, *, tenant_email: str) -> EmailRecord:
    """An .eml message, or a JSON email record (see core.mail.record_json)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InvalidInput(f"Cannot read {path}: {err.strerror}.") from None
    if path.suffix.lower() == ".json":
        return record_from_json(raw, path=path, tenant_email=tenant_email)
    return read_message(raw, source_id=path.name, tenant_email=tenant_email)


def read_message(raw: bytes, *, source_id: str, tenant_email: str) -> EmailRecord:
    """A raw message as the tenant's mail: from_self when the tenant sent it."""
    try:
        record = parse_message(raw, source_id=source_id)
    except MessageUnparseable as err:
        raise InvalidInput(str(err)) from None
    return replace(record, from_self=record.from_address == tenant_email.casefold())
