"""The HTTP API over HTTP: uvicorn on loopback, a real database, a plain client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from sqlmodel import select

from core import db, jobs, tenants
from core.models import AuditEvent, User, UserCron
from core.settings import Settings
from tests.api_support import TOKEN, serving, with_token
from tests.cli_support import CRON_KEYS
from tests.sched_helpers import no_work

OLIVIA = {"user_id": "olivia", "email": "olivia@acme.example", "schedule": "0 9 * * 1"}


@pytest.fixture
def api_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return with_token(monkeypatch, TOKEN)


@pytest.fixture
def api(api_settings: Settings) -> Iterator[httpx.Client]:
    with serving() as url:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            yield client


def _rows(settings: Settings) -> tuple[list[dict], list[dict], int]:
    with db.session_scope(settings) as session:
        return (
            [u.model_dump() for u in session.exec(select(User))],
            [c.model_dump() for c in session.exec(select(UserCron))],
            len(session.exec(select(AuditEvent)).all()),
        )


def test_gmail_connected_creates_the_cron_and_repeats_change_nothing(
    api: httpx.Client, api_settings: Settings
) -> None:
    first = api.post("/api/webhooks/gmail-connected", json=OLIVIA)
    rows = _rows(api_settings)

    second = api.post("/api/webhooks/gmail-connected", json=OLIVIA)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert _rows(api_settings) == rows
    cron = first.json()
    assert set(cron) == CRON_KEYS
    assert (cron["user_id"], cron["email"], cron["status"]) == (
        "olivia",
        "olivia@acme.example",
        "active",
    )
    assert (cron["schedule"], cron["timezone"]) == ("0 9 * * 1", "UTC")
    assert cron["description"] == "At 09:00, only on Monday"
    assert datetime.fromisoformat(cron["next_run"]).isoweekday() == 1
    assert cron["next_run"].endswith("T09:00:00+00:00")
    [user] = rows[0]
    assert (user["mail_source"], user["status"]) == ("gmail", "active")


def test_gmail_connected_changes_the_schedule_of_an_existing_cron(
    api: httpx.Client,
) -> None:
    created = api.post("/api/webhooks/gmail-connected", json=OLIVIA).json()

    changed = api.post(
        "/api/webhooks/gmail-connected", json=OLIVIA | {"schedule": "*/15 * * * *"}
    ).json()

    assert changed["cron_id"] == created["cron_id"]
    assert (changed["schedule"], changed["description"]) == (
        "*/15 * * * *",
        "Every 15 minutes",
    )


def test_manage_pauses_resumes_and_deletes_and_status_follows(
    api: httpx.Client, api_settings: Settings
) -> None:
    api.post("/api/webhooks/gmail-connected", json=OLIVIA)
    jobs.run_now(user_id="olivia", actor="test", settings=api_settings, work=no_work)

    paused = api.post("/api/cron/manage", json={"user_id": "olivia", "action": "pause"})
    status = api.get("/api/cron/status", params={"user_id": "olivia"})
    resumed = api.post(
        "/api/cron/manage", json={"user_id": "olivia", "action": "resume"}
    )
    deleted = api.post(
        "/api/cron/manage", json={"user_id": "olivia", "action": "delete"}
    )
    gone = api.get("/api/cron/status", params={"user_id": "olivia"})

    assert paused.status_code == 200
    assert paused.json()["cron"]["status"] == "paused"
    assert paused.json()["cron"]["tenant_status"] == "active"
    assert paused.json()["cron"]["next_run"] is None
    assert (status.json()["status"], status.json()["tenant_status"]) == (
        "paused",
        "active",
    )
    assert status.json()["last_run"] == {
        "status": "ok",
        "emails_fetched": 0,
        "threads_created": 0,
        "duration_s": status.json()["last_run"]["duration_s"],
        "error": None,
    }
    assert resumed.json()["cron"]["status"] == "active"
    assert deleted.json() == {"user_id": "olivia", "action": "delete", "cron": None}
    assert gone.status_code == 404
    assert gone.json() == {"detail": "Tenant 'olivia' has no cron."}
    with db.session_scope(api_settings) as session:
        # The run now above is the test's own doing, audited under its name.
        actors = set(
            session.exec(
                select(AuditEvent.actor).where(AuditEvent.action != "cron.run_now")
            ).all()
        )
    assert actors == {"api"}


def test_status_of_a_tenant_needing_reauth_keeps_the_two_statuses_apart(
    api: httpx.Client, api_settings: Settings
) -> None:
    api.post("/api/webhooks/gmail-connected", json=OLIVIA)
    tenants.set_tenant_status(
        user_id="olivia", status="needs_reauth", actor="test", settings=api_settings
    )

    status = api.get("/api/cron/status", params={"user_id": "olivia"})

    assert status.status_code == 200
    assert (status.json()["status"], status.json()["tenant_status"]) == (
        "active",
        "needs_reauth",
    )
    assert status.json()["next_run"].endswith("T09:00:00+00:00")


CALLS = (
    ("POST", "/api/webhooks/gmail-connected", {"json": OLIVIA}),
    ("POST", "/api/cron/manage", {"json": {"user_id": "olivia", "action": "pause"}}),
    ("GET", "/api/cron/status", {"params": {"user_id": "olivia"}}),
)


def test_requests_without_the_right_token_get_401_and_change_nothing(
    api: httpx.Client, api_settings: Settings
) -> None:
    attempts = [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]

    with httpx.Client(base_url=api.base_url) as anonymous:
        answers = [
            anonymous.request(
                method, path, headers={"Authorization": auth} if auth else {}, **kw
            )
            for auth in attempts
            for method, path, kw in CALLS
        ]

    assert [a.status_code for a in answers] == [401] * len(answers)
    assert answers[0].headers["www-authenticate"] == "Bearer"
    assert answers[0].json() == {"detail": "A valid bearer token is required."}
    assert _rows(api_settings) == ([], [], 0)


def test_bad_input_gets_422_with_the_services_message(
    api: httpx.Client, api_settings: Settings
) -> None:
    hook = "/api/webhooks/gmail-connected"

    answers = [
        api.post(hook, json=OLIVIA | {"schedule": "61 * * * *"}),
        api.post(hook, json=OLIVIA | {"timezone": "Mars/Olympus"}),
        api.post(hook, json=OLIVIA | {"email": "olivia-at-acme"}),
        api.post(hook, json={"user_id": "olivia"}),
        api.post(hook, json=OLIVIA | {"user_id": "olivia\x00"}),
        api.post(hook, content=b"{not json", headers={"Content-Type": "text/plain"}),
        api.post("/api/cron/manage", json={"user_id": "olivia", "action": "explode"}),
        api.get("/api/cron/status"),
    ]

    assert [a.status_code for a in answers] == [422] * len(answers)
    assert [a.json()["detail"] for a in answers] == [
        "The minute value 61 in '61 * * * *' is out of range (0-59).",
        "Unknown timezone 'Mars/Olympus'; use an IANA name such as Europe/Berlin.",
        "'olivia-at-acme' is not an email address.",
        "email: Field required.",
        "user_id: control characters are not allowed.",
        "The request body must be a JSON object.",
        "action: Input should be 'pause', 'resume' or 'delete'.",
        "query.user_id: Field required.",
    ]
    assert _rows(api_settings) == ([], [], 0)


def test_unknown_tenant_gets_404(api: httpx.Client) -> None:
    answers = [
        api.get("/api/cron/status", params={"user_id": "nobody"}),
        api.get("/api/cron/status", params={"user_id": "no body!"}),
        api.post("/api/cron/manage", json={"user_id": "nobody", "action": "resume"}),
        api.post("/api/cron/manage", json={"user_id": "nobody", "action": "delete"}),
    ]

    assert [a.status_code for a in answers] == [404] * 4
    assert answers[1].json() == {"detail": "No tenant with user id 'no body!'."}
    assert answers[2].json() == {"detail": "Tenant 'nobody' has no cron."}


def test_openapi_schema_is_served_without_a_token(api: httpx.Client) -> None:
    schema = httpx.get(api.base_url.join("/openapi.json")).json()

    assert set(schema["paths"]) == {
        "/api/webhooks/gmail-connected",
        "/api/cron/manage",
        "/api/cron/status",
    }
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    status = schema["paths"]["/api/cron/status"]["get"]
    assert {"200", "401", "404", "422"} <= set(status["responses"])


def test_api_without_api_token_refuses_every_request(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_token(monkeypatch, "")

    with serving() as url:
        refused = httpx.get(
            f"{url}/api/cron/status",
            params={"user_id": "olivia"},
            headers={"Authorization": "Bearer anything"},
        )
        blank = httpx.post(f"{url}/api/webhooks/gmail-connected", json=OLIVIA)

    assert refused.status_code == blank.status_code == 503
    assert blank.json() == {
        "detail": "The HTTP API is off: set API_TOKEN to turn it on."
    }
    assert _rows(sqlite_settings) == ([], [], 0)


def test_gmail_connected_refuses_a_folder_tenant_and_changes_nothing(
    api: httpx.Client, api_settings: Settings, tmp_path
) -> None:
    tenants.create_or_update_tenant(
        user_id="olivia",
        email="olivia@acme.example",
        actor="test",
        mailbox_path=str(tmp_path),
        settings=api_settings,
    )
    before = _rows(api_settings)

    answer = api.post(
        "/api/webhooks/gmail-connected", json=OLIVIA | {"email": "other@acme.example"}
    )

    assert answer.status_code == 409
    assert answer.json()["detail"].startswith("olivia reads a mail folder, not Gmail")
    assert _rows(api_settings) == before


def test_a_bad_setting_stops_the_api_with_one_line_and_status_2(tmp_path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATA_DIR": str(tmp_path / "data"),
        "DEFAULT_TIMEZONE": "Mars/Olympus",
        "API_TOKEN": TOKEN,
    }

    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "core.api:app", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "mailcron: bad setting DEFAULT_TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr
