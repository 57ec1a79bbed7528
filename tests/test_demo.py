"""Demo tenants: loaded from mailbox folders, dripping mail, removable at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from core import crons, db, demo, jobs
from core.models import ProcessedMessage, User, UserCron
from core.settings import Settings
from core.viewer import Viewer


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


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_command_loads_once_when_empty_and_refuses_a_missing_folder(
    tmp_path: Path,
) -> None:
    _cli(tmp_path, "db", "upgrade")

    first = _cli(tmp_path, "demo", "--if-empty", "--drip", "2", "--json")
    again = _cli(tmp_path, "demo", "--if-empty", "--json")
    missing = _cli(tmp_path, "demo", "--mailboxes", str(tmp_path / "nowhere"))

    assert first.returncode == 0, first.stderr
    assert [row["drip"] for row in json.loads(first.stdout)] == [2, 2, 2]
    assert json.loads(again.stdout) == []
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
