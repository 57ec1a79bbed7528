"""Settings pointed at the fake Google, for the connect and sign-in tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from core import crypto, db
from core.models import GmailCredential, OAuthState, UserCron
from core.settings import Settings
from tests.fakes.fake_gmail import FakeGmail

REDIRECT_URI = "http://127.0.0.1:8501/"


def google_env(
    fake: FakeGmail, folder: Path, redirect_uri: str = REDIRECT_URI
) -> dict[str, str]:
    """Environment variables that point every Google endpoint at the fake."""
    return {
        "GOOGLE_CLIENT_SECRETS_FILE": str(fake.oauth.client_file(folder, redirect_uri)),
        "GOOGLE_AUTH_URI": fake.auth_uri,
        "GOOGLE_TOKEN_URI": fake.token_uri,
        "GOOGLE_REVOKE_URI": fake.revoke_uri,
        "GOOGLE_API_ENDPOINT": fake.url,
        "GOOGLE_BATCH_URI": fake.batch_uri,
        "OAUTH_REDIRECT_URI": redirect_uri,
        "GMAIL_RETRY_BASE_SECONDS": "0.001",
        "GMAIL_RETRY_ATTEMPTS": "2",
    }


def allow_loopback_http(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http:// token endpoints; the fake is plain HTTP on loopback.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def google_settings(
    configure: Callable[..., Settings],
    database_url: str,
    fake: FakeGmail,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    **extra: str,
) -> Settings:
    allow_loopback_http(monkeypatch)
    current = configure(
        DATABASE_URL=database_url,
        SECRET_KEY=crypto.new_key(),
        **google_env(fake, folder),
        **extra,
    )
    db.upgrade(current)
    return current


def stored_rows(settings: Settings) -> dict[str, int]:
    """How many credentials, crons and pending states the database holds."""
    with db.session_scope(settings) as session:
        return {
            "credentials": len(list(session.exec(select(GmailCredential)))),
            "crons": len(list(session.exec(select(UserCron)))),
            "states": len(list(session.exec(select(OAuthState)))),
        }
