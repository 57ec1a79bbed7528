"""Overview, Runs, Threads, Tenant settings and Scheduler & health, via AppTest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from core import tenants
from core.agent import service
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record, restart
from tests.console.pages_kit import open_page, table, texts
from tests.console.seed import NOW, add_run, seed_world

OLIVIA = Viewer.tenant("olivia")
NOTIFY_RULE = {"name": "fyi", "action": "notify", "subject_keywords": ["FYI"]}


@pytest.fixture
def world(sqlite_settings: Settings) -> Settings:
    seed_world(sqlite_settings)
    return sqlite_settings


@pytest.fixture
def review(sqlite_settings: Settings) -> Iterator[dict[str, str]]:
    """Olivia with a draft awaiting review and a notify thread awaiting her ack."""
    olivia = add_tenant(
        sqlite_settings,
        "olivia",
        "olivia@acme.example",
        prefs={"name": "Olivia", "rules": [NOTIFY_RULE]},
    )
    ids = {}
    for key, email in (
        ("draft", record(id="m1")),
        ("notify", record(id="m2", thread_key="t-2", subject="FYI: office closed")),
    ):
        outcome = service.process_email(
            tenant=olivia, email=email, settings=sqlite_settings
        )
        ids[key] = outcome.thread_id
    yield ids
    restart()


def _metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_overview_shows_the_seeded_figures_and_four_charts(world: Settings) -> None:
    add_run(world, "bob", NOW - timedelta(minutes=10), "ok", 3.0)

    at = open_page("overview")

    figures = _metrics(at)
    summary = table(at).set_index("window")
    assert figures["Active tenants"] == "2" and figures["Need reauth"] == "1"
    assert figures["Runs, last hour"] == "1" and figures["Runs, last day"] == "5"
    assert figures["Threads, last day"] == "3"
    assert summary.loc["last day", "errors"] == 2
    assert summary.loc["last day", "error_rate"] == 0.4
    assert len(at.get("vega_lite_chart")) == 4


def test_runs_page_filters_by_status_and_time(world: Settings) -> None:
    at = open_page("runs")
    last_day = list(table(at)["status"])

    at.selectbox(key="runs-status").set_value("error").run()
    at.selectbox(key="runs-range").set_value("last week").run()

    errors = table(at)
    assert last_day == ["skipped", "ok", "error", "ok", "timeout"]
    assert list(errors["status"]) == ["error", "error"]
    assert list(errors["tenant"]) == ["ann", "ann"]


def test_runs_page_filters_by_tenant(world: Settings) -> None:
    at = open_page("runs")

    at.text_input(key="runs-tenant").set_value("bob").run()

    frame = table(at)
    assert list(frame["tenant"]) == ["bob"]
    assert frame["duration (s)"].tolist() == [600.0]


def test_runs_page_empty_state_says_what_to_do(sqlite_settings: Settings) -> None:
    at = open_page("runs")

    assert "press Run now" in texts(at.info)[0]


def test_threads_page_approves_a_draft(
    sqlite_settings: Settings, review: dict[str, str]
) -> None:
    at = open_page("threads")
    thread_id = review["draft"]

    at.button(key=f"approve-{thread_id}").click().run()

    assert not at.exception
    assert "Reply sent." in texts(at.success)
    status = dict(zip(table(at)["subject"], table(at)["status"], strict=True))
    assert status["Quarterly numbers"] == "answered"


def test_threads_page_sends_an_edited_draft(
    sqlite_settings: Settings, review: dict[str, str]
) -> None:
    at = open_page("threads")
    thread_id = review["draft"]

    at.text_area(key=f"draft-{thread_id}").set_value("Hi Carol, on Friday. Olivia")
    at.button(key=f"edit-{thread_id}").click().run()

    thread = service.get_thread(
        viewer=OLIVIA, thread_id=thread_id, settings=sqlite_settings
    )
    assert (thread.status, thread.draft) == ("answered", "Hi Carol, on Friday. Olivia")


def test_threads_page_rejects_and_acknowledges(
    sqlite_settings: Settings, review: dict[str, str]
) -> None:
    at = open_page("threads")

    at.button(key=f"reject-{review['draft']}").click().run()
    at.button(key=f"ack-{review['notify']}").click().run()

    status = dict(zip(table(at)["subject"], table(at)["status"], strict=True))
    assert status == {
        "Quarterly numbers": "rejected",
        "FYI: office closed": "acknowledged",
    }


RAW = (
    "From: Carol <carol@partner.example>\nTo: ann@acme.example\n"
    "Subject: FYI: new badge\nMessage-ID: <b1@partner.example>\n"
    "Date: Mon, 30 Nov 2026 09:00:00 +0000\n\nYour new badge is ready.\n"
)


def test_settings_page_tries_unsaved_rules_on_a_pasted_message(
    world: Settings,
) -> None:
    at = open_page("tenant_settings")
    rules = '[{"name": "fyi", "action": "notify", "subject_keywords": "FYI"}]'

    at.text_area(key="prefs-rules-ann").set_value(rules)
    at.text_area(key="dryrun-text-ann").set_value(RAW)
    at.button(key="prefs-try").click().run()

    assert not at.exception
    assert texts(at.success) == ["Triage: **notify** (rule `rule:fyi`)"]
    assert tenants.get_tenant(user_id="ann", settings=world).prefs == {}


def test_settings_page_saves_valid_preferences(world: Settings) -> None:
    at = open_page("tenant_settings")

    at.text_input(key="prefs-tz-ann").set_value("Europe/Paris")
    at.text_input(key="prefs-style-ann").set_value("formal")
    at.button(key="prefs-save").click().run()

    prefs = tenants.get_tenant(user_id="ann", settings=world).prefs
    assert (prefs["timezone"], prefs["response_style"]) == ("Europe/Paris", "formal")
    assert "Preferences of ann saved." in texts(at.success)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("prefs-rules-ann", "[{", "not valid JSON"),
        ("prefs-rules-ann", '[{"name": "x", "action": "shout"}]', "rules.0.action"),
        ("prefs-tz-ann", "Mars/Base", "unknown timezone"),
    ],
)
def test_settings_page_explains_bad_input_and_saves_nothing(
    world: Settings, key: str, value: str, message: str
) -> None:
    at = open_page("tenant_settings")
    field = at.text_area(key=key) if "rules" in key else at.text_input(key=key)

    field.set_value(value)
    at.button(key="prefs-save").click().run()

    assert message in texts(at.error)[0]
    assert tenants.get_tenant(user_id="ann", settings=world).prefs == {}


def test_health_page_shows_the_leader_and_next_fires(world: Settings) -> None:
    at = open_page("health")

    figures = _metrics(at)
    fires = table(at)
    assert figures["This process"] == "leader"
    assert figures["Scheduled entries"] == "1"
    # ann ticks every 5 minutes and is the only active cron: ten fires, 5 min apart.
    assert list(fires["tenant"]) == ["ann"] * 10
    assert "No Google OAuth client file" in texts(at.warning)[0]
