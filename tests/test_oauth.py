"""Connect Gmail through the fake Google: the whole flow, and each way it can fail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from core import crons, db, oauth, oauth_state, tenants
from core.errors import InvalidInput, TransientError
from core.mail.credentials import load_credentials
from core.models import DEFAULT_SCHEDULE, AuditEvent
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.fakes.fake_gmail import FakeGmail
from tests.oauth_support import google_settings, stored_rows

ACTOR = "admin:ada@example.com"
ACCOUNT = "Alice.Liddell@Example.com"
# Written out, not taken from core: a changed grant must fail here, not pass silently.
READONLY = "https://www.googleapis.com/auth/gmail.readonly"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"


@pytest.fixture
def gsettings(
    configure: Callable[..., Settings],
    backend_url: str,
    fake_gmail: FakeGmail,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    fake_gmail.oauth.consent.account = ACCOUNT
    return google_settings(configure, backend_url, fake_gmail, tmp_path, monkeypatch)


def _consent(
    fake: FakeGmail, settings: Settings, user_id: str | None = None
) -> dict[str, str]:
    url = oauth.start_connect(settings=settings, user_id=user_id)
    return fake.oauth.visit(url)


def _connect(
    fake: FakeGmail, settings: Settings, user_id: str | None = None
) -> oauth.Connected:
    answer = _consent(fake, settings, user_id)
    return oauth.finish_connect(
        settings=settings, state=answer["state"], code=answer["code"], actor=ACTOR
    )


def test_connect_creates_the_tenant_its_token_and_its_cron(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    connected = _connect(fake_gmail, gsettings)

    assert connected.created
    assert connected.tenant.user_id == "alice.liddell@example.com"
    assert connected.tenant.mail_source == "gmail"
    assert connected.cron.status == "active"
    assert connected.cron.schedule == DEFAULT_SCHEDULE
    credentials = load_credentials(user_id=connected.tenant.user_id, settings=gsettings)
    assert fake_gmail.refresh_tokens[str(credentials.refresh_token)] == ACCOUNT
    assert stored_rows(gsettings) == {"credentials": 1, "crons": 1, "states": 1}


def test_connect_asks_google_for_offline_consent_with_pkce(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    _consent(fake_gmail, gsettings)

    asked = fake_gmail.oauth.requests[0]
    assert asked["access_type"] == "offline"
    assert asked["prompt"] == "consent"
    assert asked["include_granted_scopes"] == "true"
    assert asked["code_challenge_method"] == "S256"
    assert sorted(asked["scope"].split(" ")) == [COMPOSE, READONLY]
    assert asked["redirect_uri"] == gsettings.oauth_redirect_uri


def test_connect_with_an_unknown_state_is_refused(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    answer = _consent(fake_gmail, gsettings)

    with pytest.raises(InvalidInput, match="unknown to mailcron"):
        oauth.finish_connect(
            settings=gsettings, state="forged", code=answer["code"], actor=ACTOR
        )

    assert stored_rows(gsettings)["credentials"] == 0
    assert tenants.list_tenants(viewer=_admin(), settings=gsettings) == []


def test_connect_after_ten_minutes_is_refused(
    gsettings: Settings, fake_gmail: FakeGmail, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = _consent(fake_gmail, gsettings)
    later = utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(oauth_state, "utcnow", lambda: later)

    with pytest.raises(InvalidInput, match="expired"):
        oauth.finish_connect(
            settings=gsettings, state=answer["state"], code=answer["code"], actor=ACTOR
        )

    assert stored_rows(gsettings) == {"credentials": 0, "crons": 0, "states": 1}


def test_connect_replayed_is_refused_and_stores_nothing_more(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    answer = _consent(fake_gmail, gsettings)
    oauth.finish_connect(
        settings=gsettings, state=answer["state"], code=answer["code"], actor=ACTOR
    )

    with pytest.raises(InvalidInput, match="already used"):
        oauth.finish_connect(
            settings=gsettings, state=answer["state"], code=answer["code"], actor=ACTOR
        )

    assert stored_rows(gsettings)["credentials"] == 1
    assert fake_gmail.counts["token"] == 1


def test_connect_denied_on_the_consent_page_stores_nothing(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    fake_gmail.oauth.consent.deny = True
    answer = _consent(fake_gmail, gsettings)

    with pytest.raises(InvalidInput, match="not granted"):
        oauth.finish_connect(
            settings=gsettings,
            state=answer["state"],
            error=answer["error"],
            actor=ACTOR,
        )

    assert answer["error"] == "access_denied"
    assert stored_rows(gsettings) == {"credentials": 0, "crons": 0, "states": 1}


def test_connect_without_the_compose_scope_is_refused_and_revoked(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    fake_gmail.oauth.consent.scopes = [READONLY]

    with pytest.raises(InvalidInput, match="gmail.compose"):
        _connect(fake_gmail, gsettings)

    assert stored_rows(gsettings)["credentials"] == 0
    assert tenants.list_tenants(viewer=_admin(), settings=gsettings) == []
    assert len(fake_gmail.oauth.revoked) == 1


def test_connect_with_extra_granted_scopes_is_accepted(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    profile = "https://www.googleapis.com/auth/userinfo.email"
    fake_gmail.oauth.consent.scopes = [READONLY, COMPOSE, profile]

    connected = _connect(fake_gmail, gsettings)

    assert connected.cron.status == "active"


def test_connect_without_a_refresh_token_is_refused(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    fake_gmail.oauth.consent.refresh_token = False

    with pytest.raises(InvalidInput, match="no refresh token"):
        _connect(fake_gmail, gsettings)

    assert stored_rows(gsettings)["credentials"] == 0
    assert tenants.list_tenants(viewer=_admin(), settings=gsettings) == []


def test_connect_when_the_token_endpoint_fails_is_transient(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    answer = _consent(fake_gmail, gsettings)
    fake_gmail.fail_next("token", 503)

    with pytest.raises(TransientError, match="answered 503"):
        oauth.finish_connect(
            settings=gsettings, state=answer["state"], code=answer["code"], actor=ACTOR
        )

    assert stored_rows(gsettings)["credentials"] == 0


def test_connect_with_a_refused_code_says_to_start_again(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    answer = _consent(fake_gmail, gsettings)

    with pytest.raises(InvalidInput, match="invalid_grant"):
        oauth.finish_connect(
            settings=gsettings, state=answer["state"], code="4/stolen", actor=ACTOR
        )

    assert stored_rows(gsettings)["credentials"] == 0


def test_disconnect_revokes_forgets_and_pauses(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    user_id = _connect(fake_gmail, gsettings).tenant.user_id
    refresh = next(iter(fake_gmail.refresh_tokens))

    result = oauth.disconnect(user_id=user_id, actor=ACTOR, settings=gsettings)

    assert result.revoked
    assert fake_gmail.oauth.revoked == [refresh]
    assert refresh in fake_gmail.revoked_refresh_tokens
    assert stored_rows(gsettings)["credentials"] == 0
    cron = crons.get_cron(user_id=user_id, viewer=_admin(), settings=gsettings)
    assert (cron.status, cron.pause_reason) == ("paused", oauth.DISCONNECT_REASON)
    assert tenants.get_tenant(user_id=user_id, settings=gsettings).status == (
        "needs_reauth"
    )
    assert "gmail.disconnect" in _audit_actions(gsettings, user_id)


def test_disconnect_when_google_is_down_still_forgets_the_token(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    user_id = _connect(fake_gmail, gsettings).tenant.user_id
    fake_gmail.fail_next("revoke", 503)

    result = oauth.disconnect(user_id=user_id, actor=ACTOR, settings=gsettings)

    assert not result.revoked
    assert "myaccount.google.com/permissions" in result.message
    assert stored_rows(gsettings)["credentials"] == 0


def test_reconnect_of_a_tenant_needing_reauth_resumes_the_cron(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    user_id = _connect(fake_gmail, gsettings).tenant.user_id
    tenants.set_tenant_status(
        user_id=user_id, status="needs_reauth", actor="scheduler", settings=gsettings
    )
    crons.pause_cron(
        user_id=user_id,
        actor="scheduler",
        reason="Needs reauthorisation: invalid_grant",
        settings=gsettings,
    )

    again = _connect(fake_gmail, gsettings, user_id=user_id)

    assert not again.created
    assert again.tenant.status == "active"
    assert again.cron.status == "active"
    assert stored_rows(gsettings)["credentials"] == 1


def test_reconnect_leaves_a_cron_paused_by_a_person_paused(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    user_id = _connect(fake_gmail, gsettings).tenant.user_id
    crons.pause_cron(
        user_id=user_id, actor=ACTOR, reason="on holiday", settings=gsettings
    )

    again = _connect(fake_gmail, gsettings, user_id=user_id)

    assert (again.cron.status, again.cron.pause_reason) == ("paused", "on holiday")


def test_reconnect_with_another_google_account_is_refused(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    user_id = _connect(fake_gmail, gsettings).tenant.user_id
    fake_gmail.oauth.consent.account = "someone.else@example.com"

    with pytest.raises(InvalidInput, match="someone.else@example.com"):
        _connect(fake_gmail, gsettings, user_id=user_id)

    assert tenants.get_tenant(user_id=user_id, settings=gsettings).email == (
        "alice.liddell@example.com"
    )
    assert len(tenants.list_tenants(viewer=_admin(), settings=gsettings)) == 1


def test_connect_of_a_folder_tenant_switches_it_to_gmail(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    tenants.create_or_update_tenant(
        user_id="alice",
        email=ACCOUNT,
        actor=ACTOR,
        display_name="Alice",
        mailbox_path="/srv/mail/alice",
        prefs={"tone": "brief"},
        settings=gsettings,
    )

    connected = _connect(fake_gmail, gsettings)

    assert connected.tenant.user_id == "alice"
    assert connected.tenant.mail_source == "gmail"
    assert connected.tenant.mailbox_path is None
    assert (connected.tenant.display_name, connected.tenant.prefs) == (
        "Alice",
        {"tone": "brief"},
    )


def test_tenant_viewer_cannot_finish_a_connect_started_for_someone_else(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    answer = _consent(fake_gmail, gsettings)
    stranger = Viewer.tenant("bob@example.com")

    with pytest.raises(InvalidInput, match="another tenant"):
        oauth.finish_connect(
            settings=gsettings,
            state=answer["state"],
            code=answer["code"],
            actor=stranger.actor,
            viewer=stranger,
        )

    assert stored_rows(gsettings)["credentials"] == 0


def test_start_connect_without_a_client_file_says_what_to_set(
    configure: Callable[..., Settings],
) -> None:
    current = configure()

    with pytest.raises(InvalidInput, match="GOOGLE_CLIENT_SECRETS_FILE"):
        oauth.start_connect(settings=current)


def _admin() -> Viewer:
    return Viewer.admin("ada@example.com")


def _audit_actions(settings: Settings, user_id: str) -> list[str]:
    with db.session_scope(settings) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.user_id == user_id))
        return [row.action for row in rows]


def test_deleting_a_tenant_revokes_their_grant_at_google(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    user_id = _connect(fake_gmail, gsettings).tenant.user_id
    refresh = next(iter(fake_gmail.refresh_tokens))

    tenants.delete_tenant(user_id=user_id, actor=ACTOR, settings=gsettings)

    assert fake_gmail.oauth.revoked == [refresh]
    assert stored_rows(gsettings)["credentials"] == 0
