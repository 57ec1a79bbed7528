"""The Connect Gmail page with AppTest: button, Google's consent, return, connected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core import crons, db, tenants
from core.models import GmailCredential
from core.settings import Settings
from core.viewer import Viewer
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_gmail import FakeGmail
from tests.oauth_support import google_settings, stored_rows

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
CONNECT_PAGE = str(PROJECT_ROOT / "pages" / "connect.py")
ACCOUNT = "dora@example.com"


@pytest.fixture
def gsettings(
    configure: Callable[..., Settings],
    fake_gmail: FakeGmail,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    console_bind: Callable[[str | None], None],
) -> Settings:
    fake_gmail.oauth.consent.account = ACCOUNT
    url = f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}"
    return google_settings(configure, url, fake_gmail, tmp_path, monkeypatch)


def _connect_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    return at.switch_page(CONNECT_PAGE).run()


def _google_url(at: AppTest) -> str:
    links = [link for link in at.link_button if link.key == "continue-to-google"]
    assert links, "no link to Google on the page"
    return links[0].proto.url


def _return_from_google(answer: dict[str, str]) -> AppTest:
    """Google's redirect: a new page load of the root with the answer in the query."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params.update(answer)
    return at.run()


def test_connect_button_and_return_leave_a_connected_tenant(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    at = _connect_page()
    at.button(key="connect-gmail").click().run()
    answer = fake_gmail.oauth.visit(_google_url(at))

    back = _return_from_google(answer)

    assert not back.exception
    assert "dora@example.com is connected" in back.success[0].value
    assert back.query_params == {}
    tenant = tenants.get_tenant(user_id=ACCOUNT, settings=gsettings)
    assert tenant.mail_source == "gmail"
    cron = crons.get_cron(user_id=ACCOUNT, viewer=Viewer.admin(), settings=gsettings)
    assert cron.status == "active"
    refresh = next(iter(fake_gmail.refresh_tokens))
    with db.session_scope(gsettings) as session:
        row = session.exec(select(GmailCredential)).one()
        assert refresh not in row.token_encrypted
        assert row.token_encrypted.startswith("gAAAAA")  # a Fernet token


def test_return_with_a_used_state_shows_one_line_and_stores_nothing_more(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    at = _connect_page()
    at.button(key="connect-gmail").click().run()
    answer = fake_gmail.oauth.visit(_google_url(at))
    _return_from_google(answer)

    again = _return_from_google(answer)

    assert not again.exception
    assert "already used" in again.error[0].value
    assert stored_rows(gsettings)["credentials"] == 1


def test_return_after_denying_access_says_what_to_do(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    fake_gmail.oauth.consent.deny = True
    at = _connect_page()
    at.button(key="connect-gmail").click().run()

    back = _return_from_google(fake_gmail.oauth.visit(_google_url(at)))

    assert "not granted" in back.error[0].value
    assert stored_rows(gsettings) == {"credentials": 0, "crons": 0, "states": 1}


def test_reconnect_from_the_row_resumes_a_tenant_needing_reauth(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    at = _connect_page()
    at.button(key="connect-gmail").click().run()
    _return_from_google(fake_gmail.oauth.visit(_google_url(at)))
    tenants.set_tenant_status(
        user_id=ACCOUNT, status="needs_reauth", actor="scheduler", settings=gsettings
    )
    crons.pause_cron(
        user_id=ACCOUNT, actor="scheduler", reason="grant gone", settings=gsettings
    )

    row = _connect_page()
    row.button(key="reconnect-dora-at-example.com").click().run()
    back = _return_from_google(fake_gmail.oauth.visit(_google_url(row)))

    assert "is connected" in back.success[0].value
    cron = crons.get_cron(user_id=ACCOUNT, viewer=Viewer.admin(), settings=gsettings)
    assert cron.status == "active"
    assert tenants.get_tenant(user_id=ACCOUNT, settings=gsettings).status == "active"


def test_disconnect_from_the_row_revokes_and_pauses(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    at = _connect_page()
    at.button(key="connect-gmail").click().run()
    _return_from_google(fake_gmail.oauth.visit(_google_url(at)))

    row = _connect_page()
    row.button(key="disconnect-dora-at-example.com").click().run()

    assert "revoked" in row.success[0].value
    assert stored_rows(gsettings)["credentials"] == 0
    assert len(fake_gmail.oauth.revoked) == 1
    cron = crons.get_cron(user_id=ACCOUNT, viewer=Viewer.admin(), settings=gsettings)
    assert cron.status == "paused"


def test_connect_page_without_a_client_file_points_to_health(
    configure: Callable[..., Settings], console_bind: Callable[[str | None], None]
) -> None:
    configure()

    at = _connect_page()

    assert not at.exception
    assert "GOOGLE_CLIENT_SECRETS_FILE" in at.warning[0].value


def test_signed_in_tenant_reconnects_their_own_mailbox(
    gsettings: Settings, fake_gmail: FakeGmail
) -> None:
    tenants.create_or_update_tenant(
        user_id="dora",
        email=ACCOUNT,
        actor="test",
        mail_source="gmail",
        settings=gsettings,
    )
    tenants.set_tenant_status(
        user_id="dora", status="needs_reauth", actor="scheduler", settings=gsettings
    )
    dora = {"is_logged_in": True, "email": ACCOUNT, "email_verified": True}
    at = AppTest.from_file(APP, default_timeout=30)
    at.user = dora
    at.run().switch_page(CONNECT_PAGE).run()
    at.button(key="reconnect-dora").click().run()
    answer = fake_gmail.oauth.visit(_google_url(at))

    back = AppTest.from_file(APP, default_timeout=30)
    back.user = dora
    back.query_params.update(answer)
    back.run()

    assert "is connected" in back.success[0].value
    assert tenants.get_tenant(user_id="dora", settings=gsettings).status == "active"
    assert stored_rows(gsettings)["crons"] == 1
