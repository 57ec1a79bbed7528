"""Small pieces several pages share: feedback, paging, the add-a-tenant help."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from core.errors import MailcronError
from core.localtime import viewer_zone
from core.settings import Settings
from core.viewer import Viewer

T = TypeVar("T")
FLASH_KEY = "_flash"


def flash(message: str, kind: str = "success") -> None:
    """Keep a message for the next run of the page (after an action's rerun)."""
    st.session_state[FLASH_KEY] = (kind, message)


def show_flash() -> None:
    kind, message = st.session_state.pop(FLASH_KEY, (None, None))
    if kind == "success":
        st.success(message, icon="✅")
        st.toast(message)
    elif kind == "error":
        st.error(message, icon="⚠️")


def attempt(action: Callable[..., T], /, *, done: str, **kwargs: Any) -> T | None:
    """Run a core action; flash `done` on success, the error's sentence on refusal."""
    try:
        result = action(**kwargs)
    except MailcronError as err:
        flash(str(err), "error")
        return None
    flash(done)
    return result


def zone_caption(viewer: Viewer, settings: Settings) -> str:
    zone = viewer_zone(viewer=viewer, settings=settings)
    st.caption(f"Times are shown in {zone}.")
    return zone


def pager(key: str, total: int, page_size: int) -> int:
    """A page number input under a table; returns the offset to query."""
    pages = max(1, -(-total // page_size))
    page = st.number_input(
        f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1, key=key
    )
    return (int(page) - 1) * page_size


def add_tenant_help() -> None:
    st.markdown(
        "- **From a folder of .eml files** (no Google account needed): use *Add a "
        "folder tenant* on the Tenants & crons page, or  \n"
        "  `python -m core create-user-cron --user-id alice --email alice@example.com "
        "--mailbox path/to/folder`\n"
        "- **With Gmail**: set `GOOGLE_CLIENT_SECRETS_FILE` and use *Connect Gmail*.\n"
        "- **Demo tenants**: `python -m core demo` loads three invented mailboxes."
    )
