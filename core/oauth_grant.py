"""Google's side of Connect Gmail: the Flow, the code exchange, the grant's checks.

Scopes: `gmail.readonly` reads mail and history; `gmail.compose` creates drafts and
sends them (and sends replies directly). Together they are the smallest grant for
what the assistant does. `gmail.modify` would add changing labels and trashing mail,
which mailcron never does, and `gmail.send` alone cannot create drafts.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2 import OAuth2Error

from core import tenants
from core.errors import InvalidInput, MailcronError, TransientError
from core.mail import credentials as stored
from core.mail.gmail_client import GmailCaller, build_service
from core.settings import Settings

log = logging.getLogger(__name__)

SCOPES = (
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.compose",
)
# Their debug lines carry request bodies and token responses; tokens never reach logs.
for _library in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_library).setLevel(logging.WARNING)


def make_flow(
    settings: Settings, *, state: str, code_verifier: str | None = None
) -> Flow:
    """A Flow from the client file, with the endpoints and redirect from settings."""
    path = settings.google_client_secrets_file
    if path is None:
        raise InvalidInput(
            "Gmail cannot be connected because GOOGLE_CLIENT_SECRETS_FILE is not set; "
            "see the Health page."
        )
    config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    kind = "web" if "web" in config else "installed"
    # The endpoints come from settings, so tests (and proxies) can point elsewhere.
    config[kind] = {
        **config[kind],
        "auth_uri": settings.google_auth_uri,
        "token_uri": settings.google_token_uri,
    }
    return Flow.from_client_config(
        config,
        scopes=list(SCOPES),
        redirect_uri=settings.oauth_redirect_uri,
        state=state,
        code_verifier=code_verifier,
        autogenerate_code_verifier=code_verifier is None,
    )


def check_answer(code: str | None, error: str | None) -> None:
    if error == "access_denied":
        raise InvalidInput(
            "Gmail access was not granted, so nothing was connected; click Connect "
            "Gmail again and allow reading, drafting and sending mail."
        )
    if error:
        raise InvalidInput(
            f"Google answered {error!r}, so nothing was connected; click Connect "
            "Gmail to try again."
        )
    if not code:
        raise InvalidInput(
            "Google sent no authorization code back; click Connect Gmail to try again."
        )


def exchange(flow: Flow, code: str, settings: Settings) -> Credentials:
    """Trade the code for tokens; refuse a grant without every scope or refresh."""
    flow.oauth2session.register_compliance_hook(
        "access_token_response", _raise_for_outage
    )
    try:
        token = flow.fetch_token(code=code, timeout=settings.http_timeout_seconds)
    except Warning as changed:
        # oauthlib raises when the granted scopes differ from the requested ones;
        # that is normal with include_granted_scopes, so the grant is checked below
        # instead of relaxing the check for everything.
        token = getattr(changed, "token", None)
        if token is None:
            raise
        flow.oauth2session.token = token
    except OAuth2Error as err:
        raise InvalidInput(
            f"Google refused the authorization code ({err.error}), so nothing was "
            "connected; click Connect Gmail to start again."
        ) from None
    except OSError as err:
        raise TransientError(
            f"Google's token endpoint did not answer ({type(err).__name__}); "
            "click Connect Gmail to try again in a minute."
        ) from None

    credentials = flow.credentials
    _check_grant(token, credentials, settings)
    return credentials


def _raise_for_outage(response: Any) -> Any:
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(
            f"Google's token endpoint answered {response.status_code}, so nothing "
            "was connected; click Connect Gmail to try again in a minute."
        )
    return response


def _check_grant(
    token: dict[str, Any], credentials: Credentials, settings: Settings
) -> None:
    scope = token.get("scope", list(SCOPES))
    granted = set(scope.split() if isinstance(scope, str) else scope)
    missing = [name.rsplit("/", 1)[-1] for name in SCOPES if name not in granted]
    if missing:
        discard(credentials, settings)
        raise InvalidInput(
            f"Google granted no {' or '.join(missing)} access, which mailcron needs; "
            "click Connect Gmail again and tick every box on Google's consent page."
        )
    if not credentials.refresh_token:
        discard(credentials, settings)
        raise InvalidInput(
            "Google sent no refresh token, so access would end within an hour; remove "
            "mailcron at myaccount.google.com/permissions and connect again."
        )


def discard(credentials: Credentials, settings: Settings) -> None:
    # A refused grant is revoked too, so no live token is left behind at Google.
    token = credentials.refresh_token or credentials.token
    if token:
        stored.revoke_token(token, settings=settings)


def profile_address(credentials: Credentials, settings: Settings) -> str:
    """The connected account's address, as Gmail's profile names it."""
    service = build_service(credentials, settings=settings)
    caller = GmailCaller(service, user_id="(connecting)", settings=settings)
    try:
        profile = caller.call(lambda: service.users().getProfile(userId="me"))
    except MailcronError:
        raise
    except Exception as err:  # HttpError and transport errors of the client
        raise TransientError(
            f"Gmail did not give the account's address ({type(err).__name__}); "
            "click Connect Gmail to try again."
        ) from None
    return tenants.normalise_email(str(profile["emailAddress"]))
