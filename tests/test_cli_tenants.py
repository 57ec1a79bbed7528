"""`run`, `tenant …`, `threads list`, `draft …` and `notify ack` as subprocesses."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import select

from core import db, provisioning
from core.agent import service
from core.mail.outbox import outbox_dir
from core.models import Thread, User
from core.settings import Settings
from tests.agent.kit import add_tenant, record, restart
from tests.cli_support import (
    cli,
    cli_env,
    cli_json,
    cli_many,
    error_line,
    record_lines,
    run_cli,
)

RUN_KEYS = {"status", "emails_fetched", "threads_created", "duration_s", "error"}


@pytest.fixture
def review_settings(sqlite_settings: Settings) -> Iterator[Settings]:
    yield sqlite_settings
    restart()


def _mailbox(tmp_path: Path, source: Path, count: int) -> Path:
    folder = tmp_path / "mailbox"
    folder.mkdir()
    for path in sorted(source.glob("*.eml"))[:count]:
        shutil.copy(path, folder / path.name)
    return folder


def _thread_rows(settings: Settings, owner: str) -> list[Thread]:
    with db.session_scope(settings) as session:
        return list(session.exec(select(Thread).where(Thread.owner == owner)))


def test_run_processes_new_mail_and_exits_1_when_the_run_fails(
    settings: Settings, tmp_path: Path, enron_people: list[Path]
) -> None:
    mailbox = _mailbox(tmp_path, enron_people[0], 3)
    gone = tmp_path / "gone"
    gone.mkdir()
    for user_id, folder in (("olivia", mailbox), ("theo", gone)):
        provisioning.provision_cron(
            user_id=user_id,
            email=f"{user_id}@acme.example",
            actor="test",
            settings=settings,
            mailbox=str(folder),
        )
    gone.rmdir()

    first, failed = cli_many(
        settings, ("run", "--user-id", "olivia", "--json"), ("run", "--user-id", "theo")
    )
    again = cli(settings, "run", "--user-id", "olivia")

    run = json.loads(first.stdout)
    assert first.returncode == 0, first.stderr
    assert set(run) == RUN_KEYS
    assert (run["status"], run["emails_fetched"], run["error"]) == ("ok", 3, None)
    assert run["threads_created"] == len(_thread_rows(settings, "olivia")) >= 1
    assert again.returncode == 0
    assert record_lines(again.stdout)["emails fetched"] == "0"
    assert failed.returncode == 1
    assert record_lines(failed.stdout)["status"] == "error"
    assert record_lines(failed.stdout)["error"] == (
        f"Mailbox folder {gone} does not exist."
    )
    restart()


def test_run_that_hits_the_time_limit_exits_1_and_says_timeout(
    sqlite_settings: Settings, mail_data: Path
) -> None:
    # Every Enron mailbox at once: about a thousand messages, many seconds of work
    # against a limit of one second (the smallest RUN_TIME_LIMIT_SECONDS allows).
    provisioning.provision_cron(
        user_id="olivia",
        email="olivia@acme.example",
        actor="test",
        settings=sqlite_settings,
        mailbox=str(mail_data / "enron"),
    )
    env = cli_env(sqlite_settings, RUN_TIME_LIMIT_SECONDS="1")

    result = run_cli(
        sqlite_settings.data_dir.parent, "run", "--user-id", "olivia", env=env
    )

    lines = record_lines(result.stdout)
    assert result.returncode == 1, result.stderr
    assert lines["status"] == "timeout"
    assert lines["error"] == "-"
    assert float(lines["duration s"]) >= 1
    assert int(lines["threads created"]) < int(lines["emails fetched"])
    assert len(_thread_rows(sqlite_settings, "olivia")) == int(lines["threads created"])


def _pending(settings: Settings) -> dict[str, str]:
    """Three threads of olivia: two drafts waiting for review and one notification."""
    olivia = add_tenant(settings, "olivia", "olivia@acme.example", name="Olivia Owner")
    emails = {
        "approve": record(id="m1", thread_key="t-1"),
        "reject": record(id="m2", thread_key="t-2", subject="Budget"),
        "ack": record(id="m3", thread_key="t-3", body="FYI, the numbers are in."),
    }
    ids = {
        name: service.process_email(tenant=olivia, email=email, settings=settings)
        for name, email in emails.items()
    }
    restart()
    return {name: outcome.thread_id for name, outcome in ids.items()}


def test_threads_list_then_approve_reject_and_acknowledge(
    review_settings: Settings, tmp_path: Path
) -> None:
    threads = _pending(review_settings)
    edited = tmp_path / "reply.txt"
    edited.write_text("Hi Carol, the numbers come Friday. Olivia", encoding="utf-8")

    # Two rounds of independent commands; the second needs the first's rejection.
    listed, rejected, acked, unknown = cli_many(
        review_settings,
        ("threads", "list", "--user-id", "olivia", "--json"),
        ("draft", "reject", "--thread-id", threads["reject"], "--json"),
        ("notify", "ack", "--thread-id", threads["ack"], "--json"),
        ("draft", "reject", "--thread-id", "no-such-thread"),
    )
    approved, too_late = cli_many(
        review_settings,
        (
            "draft",
            "approve",
            "--thread-id",
            threads["approve"],
            "--json",
            "--text-file",
            str(edited),
        ),
        ("draft", "approve", "--thread-id", threads["reject"]),
    )

    assert {t["thread_id"] for t in json.loads(listed.stdout)} == set(threads.values())
    assert json.loads(rejected.stdout)["status"] == "rejected"
    assert json.loads(acked.stdout)["status"] == "acknowledged"
    assert unknown.returncode == 2
    assert error_line(unknown) == "error: No thread 'no-such-thread' visible to you."
    answer = json.loads(approved.stdout)
    assert (answer["status"], answer["owner"]) == ("answered", "olivia")
    [sent] = outbox_dir(settings=review_settings, user_id="olivia").glob("*.eml")
    message = message_from_bytes(sent.read_bytes(), policy=policy.default)
    assert message.get_content().strip() == edited.read_text().strip()
    assert too_late.returncode == 1
    assert error_line(too_late) == (
        f"error: Thread {threads['reject']} is rejected, not awaiting review; "
        "nothing was done."
    )


def test_tenant_show_set_prefs_and_delete(
    review_settings: Settings, tmp_path: Path
) -> None:
    _pending(review_settings)
    good, bad, broken = (tmp_path / name for name in ("good", "bad", "broken"))
    rule = {"name": "boss", "action": "respond", "sender": "boss@acme.example"}
    good.write_text(json.dumps({"name": "Olivia", "rules": [rule]}))
    bad.write_text(json.dumps({"name": "Olivia", "rules": [{"name": "x"}]}))
    broken.write_text("{not json")

    shown, refused, unreadable = cli_many(
        review_settings,
        ("tenant", "show", "--user-id", "olivia", "--json"),
        ("tenant", "set-prefs", "--user-id", "olivia", "--file", str(bad)),
        ("tenant", "set-prefs", "--user-id", "olivia", "--file", str(broken)),
    )
    updated = cli_json(
        review_settings,
        "tenant",
        "set-prefs",
        "--user-id",
        "olivia",
        "--file",
        str(good),
    )
    deleted = cli_json(review_settings, "tenant", "delete", "--user-id", "olivia")

    tenant = json.loads(shown.stdout)
    assert (tenant["user_id"], tenant["email"]) == ("olivia", "olivia@acme.example")
    assert (tenant["display_name"], tenant["prefs"]) == ("Olivia Owner", {})
    assert "cursor" not in tenant
    assert refused.returncode == unreadable.returncode == 2
    assert error_line(refused) == (
        "error: Preferences refused, rules.0.action: Field required."
    )
    assert error_line(unreadable).startswith(f"error: {broken} is not JSON")
    assert updated["prefs"]["rules"][0]["sender"] == ["boss@acme.example"]
    assert updated["display_name"] == "Olivia Owner"
    assert deleted["deleted_rows"]["threads"] == 3
    assert deleted["deleted_rows"]["users"] == 1
    with db.session_scope(review_settings) as session:
        assert session.get(User, "olivia") is None
    assert _thread_rows(review_settings, "olivia") == []
