"""The Tenants & crons page, driven through its widget keys."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from core import crons, db, scheduler, tenant_table, tenants
from core.models import JobRun
from core.settings import Settings
from core.viewer import Viewer
from tests.console.pages_kit import folder_tenant, open_page, table, texts
from tests.console.seed import NOW, add_cron, add_run, add_user

ADMIN = Viewer.admin()
IN_A_MONTH = date.today() + timedelta(days=30)


@pytest.fixture
def ann(sqlite_settings: Settings, tmp_path: Path) -> Settings:
    folder_tenant(sqlite_settings, "ann", tmp_path / "ann-mail", mails=2)
    add_cron(sqlite_settings, "bob")
    return sqlite_settings


def _cron(settings: Settings, user_id: str) -> crons.CronInfo:
    return crons.get_cron(user_id=user_id, viewer=ADMIN, settings=settings)


def _job_ids() -> list[str]:
    [running] = scheduler.running_schedulers()
    return running.job_ids()


def test_pause_toggle_pauses_cron_and_removes_its_job(ann: Settings) -> None:
    at = open_page("tenants")
    assert _cron(ann, "ann").cron_id in _job_ids()

    at.toggle(key="active-ann").set_value(False).run()

    cron = _cron(ann, "ann")
    assert not at.exception
    assert cron.status == "paused"
    assert cron.cron_id not in _job_ids()
    assert _cron(ann, "bob").cron_id in _job_ids()
    assert "The cron of ann is paused." in texts(at.success)
    assert at.toggle(key="active-ann").value is False
    assert at.toggle(key="active-ann").label == "Paused"
    assert at.toggle(key="active-bob").label == "Active"


def test_resume_toggle_restores_the_job(ann: Settings) -> None:
    at = open_page("tenants")
    at.toggle(key="active-ann").set_value(False).run()

    at.toggle(key="active-ann").set_value(True).run()

    cron = _cron(ann, "ann")
    assert cron.status == "active"
    assert cron.cron_id in _job_ids()
    assert at.toggle(key="active-ann").value is True
    assert at.toggle(key="active-ann").label == "Active"


def test_run_now_creates_a_run_that_fetched_the_mail(ann: Settings) -> None:
    at = open_page("tenants")

    at.button(key="run-ann").click().run()

    with db.session_scope(ann) as session:
        [run] = session.exec(select(JobRun)).all()
    assert not at.exception
    assert (run.user_id, run.trigger, run.status) == ("ann", "manual", "ok")
    assert (run.emails_fetched, run.threads_created) == (2, 2)
    assert f"Run {run.id} of ann finished: ok" in texts(at.success)[0]
    row = table(at).set_index("user_id").loc["ann"]
    assert row["last_run_status"] == "ok" and row["threads_24h"] == 2


def test_bad_schedule_shows_the_service_message_and_saves_nothing(
    ann: Settings,
) -> None:
    at = open_page("tenants")
    at.selectbox(key="manage-tenant").set_value("ann").run()

    at.text_input(key="schedule-input").set_value("*/5 * * *")
    at.button(key="schedule-save").click().run()

    assert texts(at.error) == [
        "A schedule needs 5 fields: minute hour day month weekday; '*/5 * * *' has 4."
    ]
    assert _cron(ann, "ann").schedule == "0 9 * * 1"


def test_unknown_timezone_is_refused_inline(ann: Settings) -> None:
    at = open_page("tenants")

    at.text_input(key="timezone-input").set_value("Mars/Base")
    at.button(key="schedule-save").click().run()

    assert "Mars/Base" in texts(at.error)[0]
    assert _cron(ann, "ann").timezone == "UTC"
    assert _cron(ann, "ann").schedule == "0 9 * * 1"


def test_good_schedule_and_timezone_are_saved(ann: Settings) -> None:
    at = open_page("tenants")

    at.text_input(key="schedule-input").set_value("*/15 * * * *")
    at.text_input(key="timezone-input").set_value("Europe/Berlin")
    at.button(key="schedule-save").click().run()

    cron = _cron(ann, "ann")
    assert (cron.schedule, cron.timezone) == ("*/15 * * * *", "Europe/Berlin")
    assert texts(at.success)[0] == (
        "The cron of ann now runs every 15 minutes (Europe/Berlin)."
    )


def test_schedule_description_is_lower_cased_only_at_its_start(ann: Settings) -> None:
    at = open_page("tenants")

    at.text_input(key="schedule-input").set_value("0 9 * * 1")
    at.button(key="schedule-save").click().run()

    assert texts(at.success)[0] == (
        "The cron of ann now runs at 09:00, only on Monday (UTC)."
    )


def test_pause_with_reason_and_resume_time(ann: Settings) -> None:
    at = open_page("tenants")
    at.selectbox(key="manage-tenant").set_value("bob").run()

    at.text_input(key="pause-reason").set_value("on leave")
    at.checkbox(key="pause-until").check()
    at.date_input(key="pause-resume-date").set_value(IN_A_MONTH)
    at.button(key="pause-save").click().run()

    cron = _cron(ann, "bob")
    assert (cron.status, cron.pause_reason) == ("paused", "on leave")
    assert cron.resume_at is not None
    assert cron.resume_at.isoformat() == f"{IN_A_MONTH.isoformat()}T09:00:00+00:00"


def test_delete_without_confirmation_removes_nothing(ann: Settings) -> None:
    at = open_page("tenants")

    at.button(key="delete-go").click().run()

    assert "Tick the confirmation first; nothing was removed." in texts(at.error)
    assert _cron(ann, "ann").status == "active"


def test_delete_confirmation_names_what_goes_and_removes_the_cron(
    ann: Settings,
) -> None:
    at = open_page("tenants")
    warning = texts(at.warning)[0]

    at.checkbox(key="delete-confirm").check()
    at.button(key="delete-go").click().run()

    assert "cron of ann (0 9 * * 1, UTC)" in warning
    with pytest.raises(crons.CronNotFound):
        _cron(ann, "ann")
    assert tenants.get_tenant(user_id="ann", settings=ann).email == "ann@acme.example"


def test_delete_whole_tenant_after_confirmation(ann: Settings) -> None:
    at = open_page("tenants")
    at.radio(key="delete-what").set_value("the whole tenant").run()
    warning = texts(at.warning)[0]

    at.checkbox(key="delete-confirm").check()
    at.button(key="delete-go").click().run()

    assert "removes tenant ann (ann@acme.example)" in warning
    remaining = tenants.list_tenants(viewer=ADMIN, settings=ann)
    assert [t.user_id for t in remaining] == ["bob"]
    assert list(table(at).user_id) == ["bob"]


def test_bulk_pause_then_resume_the_selected_rows(ann: Settings) -> None:
    at = open_page("tenants")
    at.multiselect(key="bulk-selected").set_value(["ann", "bob"]).run()

    at.button(key="bulk-pause").click().run()
    paused = (_cron(ann, "ann").status, _cron(ann, "bob").status)
    at.multiselect(key="bulk-selected").set_value(["bob"]).run()
    at.button(key="bulk-resume").click().run()

    assert paused == ("paused", "paused")
    assert (_cron(ann, "ann").status, _cron(ann, "bob").status) == (
        "paused",
        "active",
    )
    assert "Resumed 1 cron(s)." in texts(at.success)


def test_add_folder_tenant_through_the_form(ann: Settings, tmp_path: Path) -> None:
    at = open_page("tenants")

    at.text_input(key="add-user-id").set_value("cleo")
    at.text_input(key="add-email").set_value("cleo@acme.example")
    at.text_input(key="add-folder").set_value(str(tmp_path))
    at.button(key="add-save").click().run()

    assert _cron(ann, "cleo").schedule == "* * * * *"
    assert "cleo" in list(table(at).user_id)
    assert texts(at.success)[0] == "Tenant cleo added; their cron runs every minute."


def test_add_tenant_with_missing_folder_explains_and_adds_nothing(
    ann: Settings,
) -> None:
    at = open_page("tenants")

    at.text_input(key="add-user-id").set_value("cleo")
    at.text_input(key="add-email").set_value("cleo@acme.example")
    at.text_input(key="add-folder").set_value("/no/such/place")
    at.button(key="add-save").click().run()

    assert texts(at.error) == ["'/no/such/place' is not a folder on this machine."]
    assert len(tenants.list_tenants(viewer=ADMIN, settings=ann)) == 2


def test_search_and_status_filter_narrow_the_table(ann: Settings) -> None:
    at = open_page("tenants")

    at.text_input(key="tenants-search").set_value("bob@").run()
    searched = list(table(at).user_id)
    at.text_input(key="tenants-search").set_value("").run()
    at.selectbox(key="tenants-status").set_value("paused").run()

    assert searched == ["bob"]
    assert "No tenant matches" in texts(at.info)[0]


def test_empty_console_says_how_to_add_a_tenant(sqlite_settings: Settings) -> None:
    at = open_page("tenants")

    assert "There are no tenants yet" in texts(at.info)[0]
    assert "create-user-cron" in "".join(texts(at.markdown))


def test_switching_tenant_shows_their_own_schedule(ann: Settings) -> None:
    crons.reschedule_cron(
        user_id="bob", actor="admin:test", schedule="*/30 * * * *", settings=ann
    )
    at = open_page("tenants")
    at.text_input(key="schedule-input").set_value("typed for ann").run()

    at.selectbox(key="manage-tenant").set_value("bob").run()

    assert at.text_input(key="schedule-input").value == "*/30 * * * *"


@pytest.fixture
def quiet_bob(ann: Settings) -> Settings:
    """ann ran once and is paused for a reason; bob never ran and is paused for none.

    Other rows having values is what turns bob's empty cells into NaN."""
    add_run(ann, "ann", NOW - timedelta(minutes=5), "ok")
    crons.pause_cron(user_id="ann", actor="admin:test", reason="on leave", settings=ann)
    crons.pause_cron(user_id="bob", actor="admin:test", settings=ann)
    return ann


def test_tenant_without_runs_reads_none_yet_not_nan(quiet_bob: Settings) -> None:
    at = open_page("tenants")

    lines = [text for text in texts(at.caption) if text.startswith("last run:")]
    bob = table(at).set_index("user_id").loc["bob"]
    assert lines == ["last run: ok · paused: on leave", "last run: none yet"]
    assert bob[["pause_reason", "last_run_status", "last_run_at"]].tolist() == [
        "—",
        "—",
        "—",
    ]


def test_every_tenants_column_has_a_readable_label(ann: Settings) -> None:
    at = open_page("tenants")

    config = json.loads(at.dataframe[0].proto.columns)
    labels = {name: config[name]["label"] for name in tenant_table.COLUMNS}

    assert not [label for label in labels.values() if "_" in label]
    assert labels["user_id"] == "tenant"
    assert labels["last_run_at"] == "last run at (UTC)"
    assert labels["runs_24h"] == "runs 24 h"
    assert list(table(at).columns) == tenant_table.COLUMNS


def test_status_filter_reads_plainly_and_filters_by_the_raw_value(
    ann: Settings,
) -> None:
    add_user(ann, "cat", status="needs_reauth")
    at = open_page("tenants")
    options = at.selectbox(key="tenants-status").options

    at.selectbox(key="tenants-status").set_value("needs_reauth").run()

    assert options == [
        "all",
        "active",
        "paused",
        "no cron",
        "needs reauth",
        "disabled",
    ]
    assert at.selectbox(key="tenants-status").value == "needs_reauth"
    assert list(table(at).user_id) == ["cat"]
    assert list(table(at).tenant_status) == ["needs reauth"]
