"""Who a signed-in console user is: an admin, a tenant, or nobody mailcron knows.

The identity comes from the console's OpenID Connect sign-in (Streamlit's st.login);
this module only maps an email address to a viewer, so the CLI, the API and tests
can use the same rule without Streamlit.
"""

from __future__ import annotations

import ipaddress
import logging

from sqlmodel import select

from core.db import session_scope
from core.models import TenantInfo, User
from core.settings import Settings
from core.tenants import to_info
from core.viewer import Viewer

log = logging.getLogger(__name__)


def find_by_email(*, email: str, settings: Settings) -> TenantInfo | None:
    """The tenant whose mailbox address is `email` (case-insensitively), if any."""
    address = email.strip().casefold()
    with session_scope(settings) as session:
        user = session.exec(select(User).where(User.email == address)).first()
        return to_info(user) if user is not None else None


def viewer_for_email(
    *, email: str | None, settings: Settings, verified: bool | None = None
) -> Viewer | None:
    """Admins are ADMIN_EMAILS; a tenant's own address sees that tenant; else None.

    An identity provider that says the address is unverified is not believed:
    anyone could otherwise register a tenant's address there.
    """
    if not email or verified is False:
        return None
    address = email.strip().casefold()
    if address in settings.admin_email_set:
        return Viewer.admin(address)
    tenant = find_by_email(email=address, settings=settings)
    if tenant is None:
        log.info("sign-in by %s refused: neither an admin nor a tenant", address)
        return None
    return Viewer.tenant(tenant.user_id, address)


def is_loopback(address: str | None) -> bool:
    """Whether a bind address only accepts connections from this machine.

    An empty address means every interface (Streamlit's default), so it is not.
    """
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip()).is_loopback
    except ValueError:
        return False
