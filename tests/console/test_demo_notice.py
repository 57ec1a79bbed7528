"""The console says when the demo is loaded and removes it once the admin confirms."""

from __future__ import annotations

from sqlmodel import select

from core import db, demo, tenants
from core.models import AuditEvent, UserCron
from core.settings import Settings
from core.viewer import Viewer
from tests.console.pages_kit import open_page, texts
from tests.console.seed import add_cron


def test_admin_sees_the_demo_notice_and_removes_the_demo(
    sqlite_settings: Settings,
) -> None:
    loaded = demo.load_demo(settings=sqlite_settings, drip=3)
    add_cron(sqlite_settings, "ann")  # a real tenant, which must stay
    names = ", ".join(sorted(t.user_id for t in loaded))

    at = open_page("overview")
    notice = [text for text in texts(at.info) if text.startswith("Demo loaded")]
    assert notice == [
        f"Demo loaded: 3 demo tenants ({names}) read invented mailboxes on an "
        "every-minute cron, with new mail arriving each tick. Runs, threads and "
        "charts fill in over the first minutes. To add your own tenant, use Connect "
        "Gmail, or Add a folder tenant on Tenants & crons."
    ]

    at.button(key="remove-demo").click().run()
    at.button(key="remove-demo-confirm").click().run()

    assert not at.exception
    assert texts(at.success)[0] == (
        "Removed 3 demo tenants with their crons, runs, threads and drafts."
    )
    assert not any(text.startswith("Demo loaded") for text in texts(at.info))
    everyone = tenants.list_tenants(viewer=Viewer.admin(), settings=sqlite_settings)
    assert [t.user_id for t in everyone] == ["ann"]
    with db.session_scope(sqlite_settings) as session:
        assert [c.user_id for c in session.exec(select(UserCron))] == ["ann"]
        deletes = session.exec(
            select(AuditEvent).where(AuditEvent.action == "tenant.delete")
        ).all()
    assert sorted(str(e.user_id) for e in deletes) == sorted(t.user_id for t in loaded)
    assert {e.actor for e in deletes} == {"admin:local"}


def _user_ids(settings: Settings) -> list[str]:
    everyone = tenants.list_tenants(viewer=Viewer.admin(), settings=settings)
    return sorted(t.user_id for t in everyone)


def test_first_click_asks_what_goes_and_removes_nothing(
    sqlite_settings: Settings,
) -> None:
    loaded = demo.load_demo(settings=sqlite_settings, drip=3)
    names = ", ".join(sorted(t.user_id for t in loaded))
    at = open_page("overview")

    at.button(key="remove-demo").click().run()

    assert not at.exception
    assert texts(at.warning) == [
        f"This deletes the 3 demo tenants ({names}) for good, with their crons, "
        "runs, threads and drafts, including drafts awaiting review."
    ]
    assert _user_ids(sqlite_settings) == sorted(t.user_id for t in loaded)
    assert at.button(key="remove-demo-confirm").label == "Yes, remove them"


def test_cancel_keeps_the_demo_and_closes_the_question(
    sqlite_settings: Settings,
) -> None:
    loaded = demo.load_demo(settings=sqlite_settings, drip=3)
    at = open_page("overview")
    at.button(key="remove-demo").click().run()

    at.button(key="remove-demo-cancel").click().run()

    assert not at.exception
    assert texts(at.warning) == []
    assert not [b for b in at.button if b.key == "remove-demo-confirm"]
    assert _user_ids(sqlite_settings) == sorted(t.user_id for t in loaded)


def test_no_notice_without_demo_tenants(sqlite_settings: Settings) -> None:
    add_cron(sqlite_settings, "ann")

    at = open_page("overview")

    assert not any(text.startswith("Demo loaded") for text in texts(at.info))
    assert not [b for b in at.button if b.key == "remove-demo"]
