"""Console sign-in through Streamlit's st.user test hook: who sees which tenants."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import crypto, db, tenants
from core.settings import Settings
from core.signin import is_loopback, viewer_for_email
from tests.conftest import PERSONAS, PROJECT_ROOT

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
CONNECT_PAGE = str(PROJECT_ROOT / "pages" / "connect.py")
ADMIN = "Ada.Admin@example.com"
EMAILS = sorted(persona.email for persona in PERSONAS.values())


@pytest.fixture
def team(
    configure: Callable[..., Settings],
    tmp_path: Path,
    console_bind: Callable[[str | None], None],
) -> Settings:
    """Three Gmail tenants and one admin address."""
    settings = configure(
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}",
        SECRET_KEY=crypto.new_key(),
        ADMIN_EMAILS=f"{ADMIN}, root@example.com",
    )
    db.upgrade(settings)
    for persona in PERSONAS.values():
        tenants.create_or_update_tenant(
            user_id=persona.user_id,
            email=persona.email,
            actor="test",
            mail_source="gmail",
            settings=settings,
        )
    return settings


def _page_as(user: dict[str, object]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.user = user
    at.run()
    return at.switch_page(CONNECT_PAGE).run()


def _signed_in(email: str, verified: bool = True) -> dict[str, object]:
    return {"is_logged_in": True, "email": email, "email_verified": verified}


def _shown_emails(at: AppTest) -> list[str]:
    text = "\n".join(m.value for m in at.markdown)
    return [email for email in EMAILS if email in text]


def test_admin_sees_every_tenant(team: Settings) -> None:
    at = _page_as(_signed_in("ada.admin@EXAMPLE.com"))

    assert not at.exception
    assert _shown_emails(at) == EMAILS
    # Connecting a new mailbox is for admins (here: the hint that it needs a client).
    assert "GOOGLE_CLIENT_SECRETS_FILE" in at.warning[0].value
    assert "Signed in as ada.admin@EXAMPLE.com" in at.sidebar.caption[0].value


def test_tenant_sees_only_themselves(team: Settings) -> None:
    at = _page_as(_signed_in("Theo@acme.example"))

    assert not at.exception
    assert _shown_emails(at) == ["theo@acme.example"]
    assert len(at.warning) == 0
    assert at.button(key="reconnect-theo")


def test_stranger_sees_nothing_but_a_way_out(team: Settings) -> None:
    at = _page_as(_signed_in("eve@elsewhere.example"))

    assert not at.exception
    assert _shown_emails(at) == []
    assert "neither an admin nor a tenant" in at.warning[0].value
    assert [b.key for b in at.button] == ["auth-sign-out"]


def test_tenant_with_an_unverified_address_is_a_stranger(team: Settings) -> None:
    at = _page_as(_signed_in("theo@acme.example", verified=False))

    assert _shown_emails(at) == []
    assert "neither an admin nor a tenant" in at.warning[0].value


def test_signed_out_visitor_sees_only_the_sign_in_button(team: Settings) -> None:
    at = _page_as({"is_logged_in": False})

    assert not at.exception
    assert _shown_emails(at) == []
    assert [b.key for b in at.button] == ["auth-sign-in"]


def test_without_an_identity_provider_loopback_is_a_local_admin(
    team: Settings,
) -> None:
    at = _page_as({})

    assert not at.exception
    assert "Local admin mode" in at.sidebar.caption[0].value
    assert _shown_emails(at) == EMAILS


@pytest.mark.parametrize("address", ["0.0.0.0", "192.0.2.7", None])
def test_without_an_identity_provider_another_bind_shows_no_data(
    team: Settings, console_bind: Callable[[str | None], None], address: str | None
) -> None:
    console_bind(address)

    at = _page_as({})

    assert not at.exception
    assert "mailcron shows no data" in at.error[0].value
    assert _shown_emails(at) == []
    assert len(at.button) == 0


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        (None, False),
        ("mailcron.example", False),
    ],
)
def test_is_loopback_accepts_only_this_machine(
    address: str | None, loopback: bool
) -> None:
    assert is_loopback(address) is loopback


def test_viewer_for_email_maps_admins_tenants_and_strangers(team: Settings) -> None:
    admin = viewer_for_email(email="ROOT@example.com", settings=team)
    tenant = viewer_for_email(email="olivia@acme.example", settings=team)
    stranger = viewer_for_email(email="mallory@example.com", settings=team)

    assert admin is not None and admin.is_admin
    assert tenant is not None and (tenant.user_id, tenant.is_admin) == ("olivia", False)
    assert stranger is None
    assert viewer_for_email(email=None, settings=team) is None
