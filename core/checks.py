"""Start-up checks: problems that do not stop mailcron but limit what it can do.

Each check has a stable id, a message saying what is wrong and a hint saying how to
fix it. The console shows them on its health page; `python -m core checks` prints them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from core import db
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

PROVIDER_KEYS = {"openai": "openai_api_key", "anthropic": "anthropic_api_key"}


@dataclass(frozen=True)
class Check:
    id: str
    message: str
    hint: str


def run_checks(settings: Settings | None = None) -> list[Check]:
    """The checks that fail now; an empty list means all is well."""
    settings = settings or get_settings()
    found = [
        check
        for check in (
            _google_client(settings),
            _schema(settings),
            _llm_key(settings),
        )
        if check is not None
    ]
    for check in found:
        log.warning("start-up check %s: %s", check.id, check.message)
    return found


def _google_client(settings: Settings) -> Check | None:
    if settings.google_client_secrets_file is not None:
        return None
    return Check(
        id="google_client_missing",
        message="No Google OAuth client file is configured, so Gmail cannot be "
        "connected.",
        hint="Create an OAuth client (web application) in Google Cloud, download its "
        "JSON and set GOOGLE_CLIENT_SECRETS_FILE to its path. Folder mailboxes work "
        "without it.",
    )


def _schema(settings: Settings) -> Check | None:
    try:
        at_head = db.is_at_head(settings)
    except SQLAlchemyError as err:
        return Check(
            id="database_unreachable",
            message=f"The database cannot be reached: {type(err).__name__}.",
            hint="Check DATABASE_URL and that the server is running.",
        )
    if at_head:
        return None
    return Check(
        id="schema_not_migrated",
        message="The database schema is not at the newest revision.",
        hint="Run: python -m core db upgrade",
    )


def _llm_key(settings: Settings) -> Check | None:
    provider = settings.llm_model.split(":", 1)[0]
    key_field = PROVIDER_KEYS.get(provider)
    if settings.llm_model == "rules" or key_field is None:
        return None
    if getattr(settings, key_field):
        return None
    return Check(
        id="llm_key_missing",
        message=f"LLM_MODEL is {settings.llm_model} but no API key is set for "
        f"{provider}.",
        hint=f"Set {key_field.upper()}, or LLM_MODEL=rules for the built-in rules.",
    )
