"""Console actions: who may act on which tenant, and what a refusal leaves behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from core import console_actions as actions
from core import crons, db, tenants
from core.errors import InvalidInput, UnknownTenant
from core.models import AuditEvent, JobRun, User
from core.settings import Settings
from core.viewer import Viewer
from tests.console.seed import NOW, add_cron, add_run, add_thread
from tests.sched_helpers import no_work

ADMIN = Viewer.admin()
BOB = Viewer.tenant("bob")


@pytest.fixture
def two(settings: Settings) -> Settings:
    add_cron(settings, "ann")
    add_cron(settings, "bob")
    return settings


def _status(settings: Settings, user_id: str) -> str:
    return crons.get_cron(user_id=user_id, viewer=ADMIN, settings=settings).status


def _audited(settings: Settings, action: str) -> list[str]:
    with db.session_scope(settings) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.action == action))
        return [f"{row.actor} {row.user_id}" for row in rows]


def test_pause_by_tenant_is_audited_under_their_name(two: Settings) -> None:
    actions.pause(viewer=BOB, user_id="bob", reason="holiday", settings=two)

    assert _status(two, "bob") == "paused"
    assert _audited(two, "cron.pause") == ["tenant:bob bob"]


def test_tenant_cannot_pause_someone_else(two: Settings) -> None:
    with pytest.raises(UnknownTenant):
        actions.pause(viewer=BOB, user_id="ann", settings=two)

    assert _status(two, "ann") == "active"


def test_bulk_pauses_all_it_may_and_reports_the_rest(two: Settings) -> None:
    result = actions.bulk(
        viewer=BOB, user_ids=["bob", "ann"], pause_them=True, settings=two
    )

    assert result.done == ["bob"] and list(result.refused) == ["ann"]
    assert (_status(two, "bob"), _status(two, "ann")) == ("paused", "active")


def test_bulk_resume_restores_every_selected_cron(two: Settings) -> None:
    actions.bulk(viewer=ADMIN, user_ids=["ann", "bob"], pause_them=True, settings=two)

    result = actions.bulk(
        viewer=ADMIN, user_ids=["ann", "bob"], pause_them=False, settings=two
    )

    assert result.done == ["ann", "bob"] and not result.refused
    assert (_status(two, "ann"), _status(two, "bob")) == ("active", "active")


def test_reschedule_with_bad_expression_saves_nothing(two: Settings) -> None:
    with pytest.raises(InvalidInput, match="5 fields"):
        actions.reschedule(
            viewer=ADMIN, user_id="ann", schedule="* * *", timezone="", settings=two
        )

    assert crons.get_cron(user_id="ann", viewer=ADMIN, settings=two).schedule == (
        "0 9 * * 1"
    )


def test_run_now_records_a_finished_run(two: Settings) -> None:
    run = actions.run_now(viewer=BOB, user_id="bob", settings=two, work=no_work)

    assert (run.user_id, run.status, run.trigger) == ("bob", "ok", "manual")
    assert _audited(two, "cron.run_now") == ["tenant:bob bob"]
    with db.session_scope(two) as session:
        [event] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "cron.run_now")
        ).all()
    assert event.after == {"run_id": run.id}
    assert (
        event.cron_id
        == crons.get_cron(user_id="bob", viewer=ADMIN, settings=two).cron_id
    )


def test_run_now_without_pipeline_leaves_no_run_row(
    two: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.jobs.DEFAULT_WORK", "core.no_such_pipeline.run_tenant")

    with pytest.raises(actions.PipelineMissing):
        actions.run_now(viewer=ADMIN, user_id="ann", settings=two)

    with db.session_scope(two) as session:
        assert session.exec(select(JobRun)).all() == []


def test_removal_summary_names_what_goes(two: Settings) -> None:
    add_run(two, "ann", NOW)
    add_thread(two, "ann", NOW)
    add_thread(two, "ann", NOW)

    cron_only = actions.removal_summary(
        viewer=ADMIN, user_id="ann", whole_tenant=False, settings=two
    )
    whole = actions.removal_summary(
        viewer=ADMIN, user_id="ann", whole_tenant=True, settings=two
    )

    assert "cron of ann (0 9 * * 1, UTC)" in cron_only and "stay" in cron_only
    assert "tenant ann (ann@acme.example)" in whole
    assert "2 thread(s), 1 run(s)" in whole


def test_delete_tenant_by_tenant_viewer_only_their_own(two: Settings) -> None:
    with pytest.raises(UnknownTenant):
        actions.delete_tenant(viewer=BOB, user_id="ann", settings=two)

    actions.delete_tenant(viewer=BOB, user_id="bob", settings=two)

    names = [t.user_id for t in tenants.list_tenants(viewer=ADMIN, settings=two)]
    assert names == ["ann"]


def test_add_folder_tenant_creates_tenant_and_cron(
    settings: Settings, tmp_path: Path
) -> None:
    cron = actions.add_folder_tenant(
        viewer=ADMIN,
        user_id="dora",
        email="Dora@Acme.example",
        mailbox_path=str(tmp_path),
        schedule="*/10 * * * *",
        timezone="Europe/Berlin",
        settings=settings,
    )

    tenant = tenants.get_tenant(user_id="dora", settings=settings)
    assert (cron.schedule, cron.timezone) == ("*/10 * * * *", "Europe/Berlin")
    assert (tenant.email, tenant.mail_source) == ("dora@acme.example", "folder")
    assert tenant.mailbox_path == str(tmp_path.resolve())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schedule": "every day"}, "5 fields"),
        ({"timezone": "Mars/Base"}, "Mars/Base"),
        ({"mailbox_path": "/no/such/folder"}, "not a folder"),
        ({"email": "not-an-address"}, "not an email address"),
        ({"user_id": "ann"}, "already exists"),
    ],
)
def test_add_folder_tenant_refusal_writes_nothing(
    two: Settings, tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    wanted = {
        "user_id": "dora",
        "email": "dora@acme.example",
        "mailbox_path": str(tmp_path),
        "schedule": "*/10 * * * *",
        "timezone": "UTC",
        **changes,
    }

    with pytest.raises(InvalidInput, match=message):
        actions.add_folder_tenant(viewer=ADMIN, settings=two, **wanted)

    with db.session_scope(two) as session:
        assert sorted(session.exec(select(User.user_id))) == ["ann", "bob"]


def test_only_admins_add_tenants(two: Settings, tmp_path: Path) -> None:
    with pytest.raises(actions.NotAllowed):
        actions.add_folder_tenant(
            viewer=BOB,
            user_id="eve",
            email="eve@acme.example",
            mailbox_path=str(tmp_path),
            settings=two,
        )


def test_save_prefs_refuses_bad_rules_and_keeps_old_ones(two: Settings) -> None:
    bad = {"name": "Bob", "rules": [{"name": "x", "action": "shout"}]}

    with pytest.raises(InvalidInput, match="Preferences refused"):
        actions.save_prefs(viewer=BOB, user_id="bob", prefs=bad, settings=two)

    assert tenants.get_tenant(user_id="bob", settings=two).prefs == {}


def test_save_prefs_stores_validated_prefs(two: Settings) -> None:
    prefs = {"name": "Bob", "timezone": "Europe/Paris", "rules": []}

    saved = actions.save_prefs(viewer=BOB, user_id="bob", prefs=prefs, settings=two)

    assert saved.prefs["timezone"] == "Europe/Paris"
    assert saved.prefs["response_style"] == "brief and friendly"


RAW = (
    b"From: News <news@letters.example>\r\nTo: bob@acme.example\r\n"
    b"Subject: Weekly digest\r\nMessage-ID: <d1@letters.example>\r\n"
    b"Date: Mon, 30 Nov 2026 09:00:00 +0000\r\n\r\nAll the news.\r\n"
)


def test_try_prefs_applies_unsaved_rule(two: Settings) -> None:
    prefs = {
        "name": "Bob",
        "rules": [{"name": "digests", "action": "notify", "domain": "letters.example"}],
    }

    decision = actions.try_prefs(
        viewer=BOB, user_id="bob", prefs=prefs, raw_message=RAW, settings=two
    )

    assert (decision.triage, decision.rule) == ("notify", "rule:digests")
    assert tenants.get_tenant(user_id="bob", settings=two).prefs == {}


def test_try_prefs_refuses_an_empty_message(two: Settings) -> None:
    with pytest.raises(InvalidInput, match="Paste a message"):
        actions.try_prefs(
            viewer=BOB,
            user_id="bob",
            prefs={"name": "Bob"},
            raw_message=b" ",
            settings=two,
        )
