"""process_email: outcomes on chosen messages, idempotency, crashes, thread life."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from core import db
from core.agent import service
from core.agent.dryrun import read_email
from core.agent.runtime import graph_for, thread_id_for
from core.models import ProcessedMessage, Thread
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record

FIXTURES = Path(__file__).parent / "fixtures" / "agent"
VINCE = "j.kaminski@enron.com"


def _count(settings: Settings, table: type) -> int:
    with db.session_scope(settings) as session:
        return session.execute(
            sa.select(sa.func.count()).select_from(table)
        ).scalar_one()


def test_process_colleague_question_drafts_reply_to_them(
    agent_settings: Settings, mail_data: Path
) -> None:
    vince = add_tenant(agent_settings, "vince", VINCE, name="Vince Kaminski")
    email = read_email(mail_data / "enron/kaminski-v/630.eml", tenant_email=VINCE)

    outcome = service.process_email(tenant=vince, email=email, settings=agent_settings)

    thread = service.get_thread(
        viewer=Viewer.tenant("vince"),
        thread_id=outcome.thread_id,
        settings=agent_settings,
    )
    assert (outcome.created, outcome.triage, outcome.skipped) == (
        True,
        "respond",
        False,
    )
    assert thread.status == "awaiting_review"
    assert thread.rule == "direct-question"
    assert thread.draft_to == ["david.shimko@e-rcm.com"]
    assert thread.draft.startswith("Hi David")
    assert thread.draft.rstrip().endswith("Vince Kaminski")


def test_process_rule_match_follows_rule_and_names_it(
    agent_settings: Settings, mail_data: Path
) -> None:
    prefs = {
        "name": "Vince Kaminski",
        "rules": [
            {
                "name": "shimko-fyi",
                "action": "notify",
                "sender": "david.shimko@e-rcm.com",
            }
        ],
    }
    vince = add_tenant(agent_settings, "vince", VINCE, prefs=prefs)
    email = read_email(mail_data / "enron/kaminski-v/630.eml", tenant_email=VINCE)

    outcome = service.process_email(tenant=vince, email=email, settings=agent_settings)

    [thread] = service.list_threads(viewer=Viewer.admin(), settings=agent_settings)
    assert outcome.triage == "notify"
    assert thread.status == "awaiting_ack"
    assert thread.reason.startswith("rule:shimko-fyi:")
    assert thread.draft is None


def test_process_newsletter_with_list_unsubscribe_is_ignored(
    agent_settings: Settings,
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    email = read_email(FIXTURES / "newsletter.eml", tenant_email=olivia.email)

    outcome = service.process_email(tenant=olivia, email=email, settings=agent_settings)

    [thread] = service.list_threads(viewer=Viewer.admin(), settings=agent_settings)
    assert outcome.triage == "ignore"
    assert (thread.status, thread.reason.split(":")[:2]) == (
        "ignored",
        ["automated", "list-unsubscribe"],
    )


def test_process_same_message_twice_is_skipped(agent_settings: Settings) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    email = record(id="m1")

    first = service.process_email(tenant=olivia, email=email, settings=agent_settings)
    second = service.process_email(tenant=olivia, email=email, settings=agent_settings)

    assert (first.skipped, second.skipped) == (False, True)
    assert second.thread_id == first.thread_id
    assert _count(agent_settings, Thread) == 1


def test_process_after_crash_leaves_one_thread_and_one_draft(
    agent_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    email = record(id="m1")

    def crash(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("power cut between the graph and the database")

    with monkeypatch.context() as patch:
        patch.setattr(service, "_record", crash)
        with pytest.raises(RuntimeError):
            service.process_email(tenant=olivia, email=email, settings=agent_settings)
    again = service.process_email(tenant=olivia, email=email, settings=agent_settings)

    state = graph_for(agent_settings).get_state(
        {"configurable": {"thread_id": again.thread_id}}
    )
    assert again.created is True and again.skipped is False
    assert _count(agent_settings, Thread) == 1
    assert _count(agent_settings, ProcessedMessage) == 1
    assert [e["id"] for e in state.values["emails"]] == ["m1"]
    assert len(state.interrupts) == 1
    assert state.interrupts[0].value["draft"] == state.values["draft"]


def test_new_message_in_thread_awaiting_review_replaces_draft(
    agent_settings: Settings,
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    service.process_email(tenant=olivia, email=record(id="m1"), settings=agent_settings)
    follow_up = record(
        id="m2",
        subject="Re: Quarterly numbers",
        sender="dave@partner.example",
        sender_name="Dave Smith",
        body="Could you copy me on that as well?",
    )

    outcome = service.process_email(
        tenant=olivia, email=follow_up, settings=agent_settings
    )

    thread = service.get_thread(
        viewer=Viewer.tenant("olivia"),
        thread_id=outcome.thread_id,
        settings=agent_settings,
    )
    assert outcome.created is False
    assert [m["id"] for m in thread.messages] == ["m1", "m2"]
    assert thread.draft_to == ["dave@partner.example"]
    assert thread.draft.startswith("Hi Dave")
    assert thread.subject == "Quarterly numbers"


def test_reply_from_tenant_closes_pending_review(agent_settings: Settings) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    service.process_email(tenant=olivia, email=record(id="m1"), settings=agent_settings)
    mine = record(
        id="m2", sender=olivia.email, to=("carol@partner.example",), from_self=True
    )

    outcome = service.process_email(tenant=olivia, email=mine, settings=agent_settings)

    thread = service.get_thread(
        viewer=Viewer.tenant("olivia"),
        thread_id=outcome.thread_id,
        settings=agent_settings,
    )
    assert outcome.triage is None
    assert (thread.status, thread.draft, thread.triage) == ("answered", None, "respond")
    assert thread.sender == "carol@partner.example"


def test_thread_id_depends_on_owner_and_source_thread() -> None:
    ours, theirs = thread_id_for("olivia", "abc"), thread_id_for("theo", "abc")

    assert ours != theirs
    assert ours == thread_id_for("olivia", "abc")
