"""Demo tenants: loaded from mailbox folders, dripping mail, removable at once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from core import crons, db, demo, jobs
from core.agent import service
from core.agent.prefs import validate_prefs
from core.models import ProcessedMessage, User, UserCron
from core.settings import Settings
from core.viewer import Viewer
from tests.cli_support import run_cli


def test_demo_makes_one_dripping_tenant_per_demo_mailbox(
    sqlite_settings: Settings,
) -> None:
    loaded = demo.load_demo(settings=sqlite_settings, drip=3)

    folders = sorted(p.name for p in demo.DEMO_MAILBOXES.iterdir() if p.is_dir())
    cron_list = crons.list_crons(viewer=Viewer.admin(), settings=sqlite_settings)
    assert len(loaded) == len(folders) == 3
    assert all(t.is_demo and t.release_per_tick == 3 for t in loaded)
    assert all(t.mail_source == "folder" for t in loaded)
    assert {c.schedule for c in cron_list} == {"* * * * *"}
    assert {c.user_id for c in cron_list} == {t.user_id for t in loaded}
    assert "ines.calloway@example.com" in {t.email for t in loaded}
    ines = next(t for t in loaded if t.email == "ines.calloway@example.com")
    prefs = validate_prefs(ines.prefs)
    assert (prefs.name, prefs.response_style) == ("Ines Calloway", "friendly and brief")
    assert prefs.background.startswith("Ines Calloway (ines.calloway@example.com)")
    assert [rule.name for rule in prefs.rules] == ["calendar", "reminders"]


def test_demo_rules_fire_on_the_demo_mail(sqlite_settings: Settings) -> None:
    loaded = demo.load_demo(settings=sqlite_settings)

    for tenant in loaded:
        jobs.run_now(user_id=tenant.user_id, actor="test", settings=sqlite_settings)

    threads = service.list_threads(viewer=Viewer.admin(), settings=sqlite_settings)
    kinds = Counter((t.reason or "").split(":")[0] for t in threads)
    by_rule = {
        t.subject.split(" @ ")[0]: (t.triage, t.reason)
        for t in threads
        if (t.reason or "").startswith("rule:")
    }
    assert {"rule", "automated", "direct-question", "default"} <= set(kinds)
    assert by_rule["Invitation: Budget 2027 kick-off"] == (
        "notify",
        "rule:calendar: tenant rule 'calendar' matched",
    )
    assert by_rule["Reminder: November expenses close today at 23:59"][0] == "notify"


def test_loading_the_demo_twice_changes_nothing(sqlite_settings: Settings) -> None:
    first = demo.load_demo(settings=sqlite_settings)

    second = demo.load_demo(settings=sqlite_settings)

    assert first == second
    with db.get_engine(sqlite_settings).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 3


def test_a_dripping_tenant_gets_n_messages_per_tick(sqlite_settings: Settings) -> None:
    tenant = demo.load_demo(settings=sqlite_settings, drip=3)[0]

    runs = [
        jobs.run_now(user_id=tenant.user_id, actor="test", settings=sqlite_settings)
        for _ in range(2)
    ]

    assert [run.emails_fetched for run in runs] == [3, 3]
    with db.get_engine(sqlite_settings).connect() as conn:
        done = conn.execute(
            sa.select(sa.func.count()).where(ProcessedMessage.owner == tenant.user_id)
        ).scalar()
    assert done == 6


def test_demo_over_enron_makes_one_tenant_per_person(
    sqlite_settings: Settings, enron_people: list[Path]
) -> None:
    loaded = demo.load_demo(settings=sqlite_settings, mailboxes=enron_people[0].parent)

    assert [t.user_id for t in loaded] == [p.name for p in enron_people]
    assert all(t.email.endswith("@enron.com") for t in loaded)


def test_remove_demo_deletes_demo_tenants_and_their_crons(
    sqlite_settings: Settings,
) -> None:
    demo.load_demo(settings=sqlite_settings)

    removed = demo.remove_demo(settings=sqlite_settings)

    assert removed == 3
    with db.get_engine(sqlite_settings).connect() as conn:
        for table in (User, UserCron):
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                == 0
            )


def test_demo_command_loads_once_when_empty_and_refuses_a_missing_folder(
    tmp_path: Path,
) -> None:
    run_cli(tmp_path, "db", "upgrade")

    first = run_cli(tmp_path, "demo", "--if-empty", "--drip", "2", "--json")
    again = run_cli(tmp_path, "demo", "--if-empty", "--json")
    missing = run_cli(tmp_path, "demo", "--mailboxes", str(tmp_path / "nowhere"))

    assert first.returncode == 0, first.stderr
    assert [row["drip"] for row in json.loads(first.stdout)] == [2, 2, 2]
    assert json.loads(again.stdout) == []
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_demo_without_drip_delivers_the_whole_mailbox_on_the_first_tick(
    sqlite_settings: Settings,
) -> None:
    tenant = demo.load_demo(settings=sqlite_settings)[0]
    files = list(Path(tenant.mailbox_path or "").glob("*.eml"))

    run = jobs.run_now(user_id=tenant.user_id, actor="test", settings=sqlite_settings)

    assert tenant.release_per_tick is None
    assert run.emails_fetched == len(files) >= 30


def test_demo_reads_a_maildir_per_person(
    sqlite_settings: Settings, enron_people: list[Path], tmp_path: Path
) -> None:
    person = enron_people[0]
    maildir = tmp_path / "people" / person.name
    for part in ("cur", "new", "tmp"):
        (maildir / part).mkdir(parents=True)
    sources = sorted(person.glob("*.eml"))[:5]
    for number, source in enumerate(sources):
        where = "new" if number % 2 else "cur"
        (maildir / where / f"17000{number}.M{number}.host:2,S").write_bytes(
            source.read_bytes()
        )

    [tenant] = demo.load_demo(settings=sqlite_settings, mailboxes=tmp_path / "people")
    run = jobs.run_now(user_id=tenant.user_id, actor="test", settings=sqlite_settings)

    assert tenant.user_id == person.name.casefold().replace("_", "-")
    assert tenant.is_demo and tenant.mailbox_path == str(maildir.resolve())
    assert run.emails_fetched == len(sources)
