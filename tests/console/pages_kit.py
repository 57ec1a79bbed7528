"""Helpers for driving the console's pages with AppTest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from core import console_actions as actions
from core.settings import Settings
from core.viewer import Viewer
from tests.conftest import PROJECT_ROOT
from tests.mail_support import make_message

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
PAGES = PROJECT_ROOT / "pages"


def open_page(name: str, user: dict[str, object] | None = None) -> AppTest:
    """The console, switched to pages/<name>.py, after its first run.

    `user` is what sign-in would put in st.user; without it the console is the
    local admin.
    """
    at = AppTest.from_file(APP, default_timeout=30)
    if user is not None:
        at.user = user  # type: ignore[assignment]
    at.run()
    at.switch_page(str(PAGES / f"{name}.py")).run()
    assert not at.exception, at.exception
    return at


def signed_in(email: str) -> dict[str, object]:
    """What st.user holds for someone signed in with a verified `email`."""
    return {"is_logged_in": True, "email": email, "email_verified": True}


def table(at: AppTest, index: int = 0) -> pd.DataFrame:
    return at.dataframe[index].value


def texts(elements: object) -> list[str]:
    return [element.value for element in elements]  # type: ignore[attr-defined]


def folder_tenant(settings: Settings, user_id: str, folder: Path, mails: int) -> None:
    """A folder tenant with `mails` questions waiting in their folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(mails):
        (folder / f"{n:03}.eml").write_bytes(
            make_message(
                subject=f"Question {n}",
                to=f"{user_id}@acme.example",
                body="Could you send me the figures by Friday?",
                date=datetime(2026, 11, 30, 9, n, tzinfo=UTC),
                message_id=f"<q{n}.{user_id}@partner.example>",
            )
        )
    actions.add_folder_tenant(
        viewer=Viewer.admin(),
        user_id=user_id,
        email=f"{user_id}@acme.example",
        mailbox_path=str(folder),
        schedule="0 9 * * 1",
        settings=settings,
    )
