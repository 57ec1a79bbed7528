"""Overview, Runs, Threads, Tenant settings and Scheduler & health, via AppTest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from core import scheduler, tenants
from core.agent import service
from core.runs import list_runs
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record, restart
from tests.console.pages_kit import open_page, signed_in, table, texts
from tests.console.seed import (
    NOW,
    add_cron,
    add_review_thread,
    add_run,
    add_run_row,
    add_user,
    seed_world,
)
from tests.sched_helpers import no_work

OLIVIA = Viewer.tenant("olivia")
ADMIN = Viewer.admin()
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


def _encodings(at: AppTest) -> list[dict]:
    return [
        json.loads(chart.proto.spec)["encoding"] for chart in at.get("vega_lite_chart")
    ]


def test_overview_counts_are_whole_and_minute_labels_do_not_repeat(
    world: Settings,
) -> None:
    add_run(world, "bob", NOW - timedelta(minutes=10), "ok", 3.0)

    at = open_page("overview")

    encodings = _encodings(at)
    [runs] = [e for e in encodings if e["y"]["field"] == "runs"]
    [threads] = [e for e in encodings if e["x"]["field"] == "threads"]
    minutes = [e["x"] for e in encodings if e["x"]["field"] == "at"]
    whole = {"format": "d", "tickMinStep": 1}
    assert runs["y"]["axis"] == whole and threads["x"]["axis"] == whole
    assert len(minutes) == 2
    # One band per minute, each labelled once, in time order.
    for axis in minutes:
        assert axis["type"] == "ordinal"
        assert len(axis["sort"]) == len(set(axis["sort"]))
        assert all(len(label) == 5 and label[2] == ":" for label in axis["sort"])
    assert len(runs["x"]["sort"]) >= 2


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


def _runs_a_minute_apart(settings: Settings, count: int) -> list[int]:
    """`count` runs of ann, a minute apart in the last hour; ids, newest first.

    The newest is inserted first, so newest first is not the same as id order.
    """
    return [
        add_run_row(settings, "ann", NOW - timedelta(minutes=n))
        for n in range(1, count + 1)
    ]


@pytest.fixture
def many_runs(sqlite_settings: Settings) -> list[int]:
    """53 runs: more than the Runs page's 50 a page."""
    return _runs_a_minute_apart(sqlite_settings, 53)


def test_runs_page_pages_fifty_runs_newest_first(many_runs: list[int]) -> None:
    at = open_page("runs")
    first, first_notes = list(table(at)["run"]), texts(at.caption)

    at.number_input(key="runs-page").set_value(2).run()

    assert first == many_runs[:50]
    assert "More runs on the next page." in first_notes
    assert list(table(at)["run"]) == many_runs[50:]
    assert "This is the last page." in texts(at.caption)


def test_list_runs_returns_exactly_the_offset_and_limit_slice(
    settings: Settings,
) -> None:
    ids = _runs_a_minute_apart(settings, 53)

    window = list_runs(viewer=ADMIN, offset=10, limit=5, settings=settings)
    tail = list_runs(viewer=ADMIN, offset=50, limit=50, settings=settings)

    assert [run.id for run in window] == ids[10:15]
    assert [run.id for run in tail] == ids[50:]


def test_runs_page_error_column_shows_kind_and_message(
    sqlite_settings: Settings,
) -> None:
    add_run_row(
        sqlite_settings,
        "ann",
        NOW - timedelta(hours=1),
        "error",
        kind="gmail_http",
        message="Gmail answered 503; the next tick retries.",
    )
    add_run_row(
        sqlite_settings,
        "bob",
        NOW - timedelta(hours=2),
        "timeout",
        kind="timeout",
        message="The tick ran over 600 s and was stopped.",
    )
    add_run_row(sqlite_settings, "ann", NOW - timedelta(hours=3), "ok")

    at = open_page("runs")

    assert list(table(at)["error"]) == [
        "gmail_http: Gmail answered 503; the next tick retries.",
        "timeout: The tick ran over 600 s and was stopped.",
        "",
    ]


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


def test_threads_status_filter_reads_plainly_and_filters_by_the_raw_value(
    sqlite_settings: Settings, review: dict[str, str]
) -> None:
    at = open_page("threads")
    options = at.selectbox(key="threads-status").options

    at.selectbox(key="threads-status").set_value("awaiting_review").run()

    assert "awaiting review" in options and "awaiting_review" not in options
    assert list(table(at)["subject"]) == ["Quarterly numbers"]
    assert list(table(at)["status"]) == ["awaiting review"]


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


ANN_DRAFT = "Hi Carol, the figures follow on Friday. Ann"
CAT_DRAFT = "Hi Dave, Tuesday works. Cat"


@pytest.fixture
def triaged(sqlite_settings: Settings) -> dict[str, str]:
    """ann and cat, each with one draft awaiting review; their thread ids."""
    add_user(sqlite_settings, "ann")
    add_user(sqlite_settings, "cat")
    return {
        "ann": add_review_thread(
            sqlite_settings,
            "ann",
            NOW - timedelta(minutes=10),
            sender="carol@partner.example",
            triage="respond",
            reason="Carol asks for the Q3 figures.",
            draft=ANN_DRAFT,
        ),
        "cat": add_review_thread(
            sqlite_settings,
            "cat",
            NOW - timedelta(minutes=20),
            sender="dave@supplier.example",
            triage="respond",
            reason="Dave moves the delivery.",
            draft=CAT_DRAFT,
        ),
    }


def test_threads_page_shows_sender_triage_reason_and_draft(
    triaged: dict[str, str],
) -> None:
    at = open_page("threads")

    shown = table(at)[["tenant", "sender", "triage", "reason"]]
    assert shown.values.tolist() == [
        ["ann", "carol@partner.example", "respond", "Carol asks for the Q3 figures."],
        ["cat", "dave@supplier.example", "respond", "Dave moves the delivery."],
    ]
    assert at.text_area(key=f"draft-{triaged['ann']}").value == ANN_DRAFT
    assert at.text_area(key=f"draft-{triaged['cat']}").value == CAT_DRAFT


def test_threads_page_shows_an_admin_every_tenant_and_a_tenant_only_theirs(
    triaged: dict[str, str],
) -> None:
    admin = open_page("threads")
    ann = open_page("threads", user=signed_in("ann@acme.example"))

    assert list(table(admin)["tenant"]) == ["ann", "cat"]
    assert list(table(ann)["tenant"]) == ["ann"]
    assert [area.key for area in ann.text_area] == [f"draft-{triaged['ann']}"]


def test_threads_page_empty_state_says_what_to_do(sqlite_settings: Settings) -> None:
    at = open_page("threads")

    assert texts(at.info) == [
        "No threads here yet. Threads appear after a tenant's cron has run on new "
        "mail; press Run now on the Tenants & crons page to fetch now."
    ]


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


def test_settings_page_tries_unsaved_rules_on_an_uploaded_eml(
    world: Settings,
) -> None:
    at = open_page("tenant_settings")
    rules = '[{"name": "fyi", "action": "notify", "subject_keywords": "FYI"}]'

    at.text_area(key="prefs-rules-ann").set_value(rules)
    at.file_uploader(key="dryrun-file-ann").set_value(
        ("badge.eml", RAW.encode(), "message/rfc822")
    )
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


@pytest.fixture
def skips(sqlite_settings: Settings) -> Settings:
    """ann's yearly cron; in the last hour 2 missed and 3 overlapping ticks were
    skipped, and one more was missed two hours ago."""
    add_cron(sqlite_settings, "ann", "0 9 1 1 *")
    now = utcnow()
    for minutes, kind in (
        (5, "missed"),
        (15, "missed"),
        (10, "overlap"),
        (20, "overlap"),
        (25, "overlap"),
        (120, "missed"),
    ):
        started = now - timedelta(minutes=minutes)
        add_run_row(sqlite_settings, "ann", started, "skipped", kind=kind)
    return sqlite_settings


def _shown_time(caption: str, prefix: str, zone: str) -> datetime:
    stamp = caption.removeprefix(prefix)[:19]
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(zone))


def test_health_page_counts_skipped_ticks_and_shows_the_heartbeat(
    skips: Settings,
) -> None:
    before = utcnow().replace(microsecond=0)

    at = open_page("health")

    after = utcnow()
    figures = _metrics(at)
    beat = next(c for c in texts(at.caption) if c.startswith("Last heartbeat: "))
    shown = _shown_time(beat, "Last heartbeat: ", skips.default_timezone)
    assert figures["Missed ticks, last hour"] == "2"
    assert figures["Skipped ticks, last hour"] == "3"
    assert before <= shown <= after


@pytest.fixture
def other_leader(sqlite_settings: Settings) -> Iterator[scheduler.Scheduler]:
    """A scheduler of another process that already holds the lease."""
    add_cron(sqlite_settings, "ann", "0 9 1 1 *")
    leader = scheduler.Scheduler(
        sqlite_settings, work=no_work, holder="worker-elsewhere"
    ).start()
    yield leader
    leader.shutdown(timeout=5)


def test_health_page_stands_by_while_another_scheduler_leads(
    other_leader: scheduler.Scheduler,
) -> None:
    at = open_page("health")

    assert other_leader.role == "leader"
    assert _metrics(at)["This process"] == "standby"
    assert "Scheduled jobs run in worker-elsewhere." in texts(at.caption)


def test_health_page_empty_state_says_what_to_do(sqlite_settings: Settings) -> None:
    at = open_page("health")

    assert texts(at.info) == [
        "Nothing is scheduled: add a tenant or resume a paused cron."
    ]
