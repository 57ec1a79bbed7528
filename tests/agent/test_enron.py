"""The real graph over every message of the shared Enron mailboxes, rules engine."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from core import db
from core.agent import service
from core.agent.dryrun import read_email
from core.models import ProcessedMessage, Thread
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import add_tenant


def _owner_address(files: list[Path]) -> str:
    """The mailbox's owner: the address most of its mail was sent to."""
    seen = Counter(
        address for path in files for address in read_email(path, tenant_email="").to
    )
    return seen.most_common(1)[0][0]


def test_every_enron_message_gets_a_recorded_decision(
    agent_sqlite: Settings, enron_people: list[Path]
) -> None:
    outcomes = []
    expected_threads = set()
    for person in enron_people:
        files = sorted(person.glob("*.eml"))
        address = _owner_address(files)
        tenant = add_tenant(agent_sqlite, person.name, address)
        for path in files:
            email = read_email(path, tenant_email=address)
            expected_threads.add((person.name, email.thread_key))
            outcomes.append(
                service.process_email(tenant=tenant, email=email, settings=agent_sqlite)
            )

    with db.session_scope(agent_sqlite) as session:
        rows = session.execute(sa.select(Thread)).scalars().all()
        processed = session.execute(
            sa.select(sa.func.count()).select_from(ProcessedMessage)
        ).scalar_one()
    responding = [row for row in rows if row.status == "awaiting_review"]
    triages = Counter(outcome.triage for outcome in outcomes)
    assert {(row.owner, row.source_thread_id) for row in rows} == expected_threads
    assert processed == sum(not outcome.skipped for outcome in outcomes) > 0
    assert set(triages) <= {"ignore", "notify", "respond", None}
    assert triages["respond"] > 0 and triages["notify"] > 0
    assert all(
        row.draft and row.reason.startswith("direct-question") for row in responding
    )
    assert all(row.reason for row in rows if row.status != "answered")


def test_every_enron_draft_is_addressed_to_the_sender(
    agent_sqlite: Settings, enron_people: list[Path]
) -> None:
    person = enron_people[0]
    files = sorted(person.glob("*.eml"))
    address = _owner_address(files)
    tenant = add_tenant(agent_sqlite, person.name, address)
    for path in files:
        service.process_email(
            tenant=tenant,
            email=read_email(path, tenant_email=address),
            settings=agent_sqlite,
        )

    viewer = Viewer.tenant(person.name)
    pending = service.list_threads(
        viewer=viewer, status="awaiting_review", limit=500, settings=agent_sqlite
    )
    details = [
        service.get_thread(viewer=viewer, thread_id=t.thread_id, settings=agent_sqlite)
        for t in pending
    ]
    assert details
    for thread in details:
        last_sender = [m for m in thread.messages if not m["from_self"]][-1]
        assert thread.draft_to == [last_sender["from_address"]]
