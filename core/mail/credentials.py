"""A tenant's Gmail token, stored encrypted in gmail_credentials."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime

from google.oauth2.credentials import Credentials

from core import crypto, db
from core.errors import DecryptionFailed, NotConnected, ReauthRequired
from core.models import GmailCredential
from core.settings import Settings, get_settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)


def store_credentials(
    *, user_id: str, credentials: Credentials, settings: Settings
) -> None:
    """Encrypt and save the token; a token without a refresh token keeps the old one."""
    info = json.loads(credentials.to_json())
    if not info.get("refresh_token"):
        previous = _stored_info(user_id=user_id, settings=settings)
        if previous and previous.get("refresh_token"):
            info["refresh_token"] = previous["refresh_token"]

    with db.session_scope(settings) as session:
        row = session.get(GmailCredential, user_id) or GmailCredential(
            user_id=user_id, token_encrypted=""
        )
        row.token_encrypted = crypto.encrypt(json.dumps(info), settings)
        row.scopes = list(credentials.scopes or info.get("scopes") or [])
        row.expiry = _aware(credentials.expiry)
        row.updated_at = utcnow()
        session.add(row)
    log.info("stored Gmail token for %s", user_id)


def load_credentials(*, user_id: str, settings: Settings) -> Credentials:
    """The tenant's credentials, pointed at the configured token endpoint."""
    info = _stored_info(user_id=user_id, settings=settings)
    if info is None:
        raise NotConnected(user_id)
    try:
        credentials = Credentials.from_authorized_user_info(info)
    except ValueError as err:
        raise ReauthRequired(user_id, "the stored token is incomplete") from err
    # google-auth ignores the stored token_uri and always points at Google.
    return credentials.with_token_uri(settings.google_token_uri)


def _stored_info(*, user_id: str, settings: Settings) -> dict | None:
    with db.session_scope(settings) as session:
        row = session.get(GmailCredential, user_id)
        ciphertext = row.token_encrypted if row is not None else None
    if ciphertext is None:
        return None
    plaintext = crypto.decrypt(ciphertext, settings)
    if plaintext is None:
        raise DecryptionFailed(user_id)
    return json.loads(plaintext)


def _aware(expiry: datetime | None) -> datetime | None:
    # google-auth keeps expiry as naive UTC.
    if expiry is None:
        return None
    return expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)


def delete_credentials(*, user_id: str, settings: Settings) -> bool:
    """Forget the tenant's token; True when one was stored."""
    with db.session_scope(settings) as session:
        row = session.get(GmailCredential, user_id)
        if row is None:
            return False
        session.delete(row)
    log.info("deleted the Gmail token of %s", user_id)
    return True


def revoke(*, user_id: str, settings: Settings | None = None) -> bool:
    """Ask Google to revoke the tenant's grant; True when it is gone there.

    Revoking the refresh token ends the whole grant, access tokens included. Google
    answers 400 for a token it no longer knows, which means the grant is gone too.
    """
    settings = settings or get_settings()
    info = _stored_info(user_id=user_id, settings=settings)
    token = (info or {}).get("refresh_token") or (info or {}).get("token")
    if not token:
        return True
    return revoke_token(token, settings=settings)


def revoke_token(token: str, *, settings: Settings) -> bool:
    """POST the token to the revoke endpoint (in the body, never in a URL)."""
    request = urllib.request.Request(
        settings.google_revoke_uri,
        data=urllib.parse.urlencode({"token": token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.http_timeout_seconds):
            return True
    except urllib.error.HTTPError as err:
        if err.code == 400:
            return True
        log.warning("Google's revoke endpoint answered %d", err.code)
        return False
    except OSError as err:
        log.warning("Google's revoke endpoint did not answer (%s)", type(err).__name__)
        return False
