"""Review after a restart: approve, edit, reject, acknowledge; sending exactly once."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlmodel import col, select

from core import db
from core.agent import service
from core.agent.review import load_tenant
from core.errors import Conflict, InvalidInput
from core.mail.outbox import outbox_dir
from core.models import AuditEvent
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record, restart

OLIVIA = Viewer.tenant("olivia")


def _pending(settings: Settings, **overrides: object) -> str:
    olivia = add_tenant(settings, "olivia", "olivia@acme.example", name="Olivia Owner")
    email = record(id="m1", **overrides)  # type: ignore[arg-type]
    outcome = service.process_email(tenant=olivia, email=email, settings=settings)
    # A new process: no graph or checkpointer survives, only the database.
    restart()
    return outcome.thread_id


def _outbox(settings: Settings) -> list[Path]:
    folder = outbox_dir(settings=settings, user_id="olivia")
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_approve_after_restart_writes_threaded_reply(agent_settings: Settings) -> None:
    thread_id = _pending(agent_settings)

    thread = service.approve_draft(
        viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
    )

    [sent] = _outbox(agent_settings)
    message = message_from_bytes(sent.read_bytes(), policy=policy.default)
    assert thread.status == "answered"
    assert message["To"] == "carol@partner.example"
    assert message["Subject"] == "Re: Quarterly numbers"
    assert message["In-Reply-To"] == "<m1@mail.example>"
    assert message["References"] == "<m1@mail.example>"
    assert message["From"] == "Olivia Owner <olivia@acme.example>"
    assert message.get_content().strip() == thread.draft.strip()


def test_edit_sends_the_edited_text(agent_settings: Settings) -> None:
    thread_id = _pending(agent_settings)

    thread = service.approve_draft(
        viewer=OLIVIA,
        thread_id=thread_id,
        text="Hi Carol, numbers attached Friday. Olivia",
        settings=agent_settings,
    )

    [sent] = _outbox(agent_settings)
    body = message_from_bytes(sent.read_bytes(), policy=policy.default).get_content()
    assert body.strip() == "Hi Carol, numbers attached Friday. Olivia"
    assert thread.draft == "Hi Carol, numbers attached Friday. Olivia"
    assert thread.status == "answered"


def test_reject_closes_without_sending(agent_settings: Settings) -> None:
    thread_id = _pending(agent_settings)

    thread = service.reject_draft(
        viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
    )

    assert thread.status == "rejected"
    assert _outbox(agent_settings) == []


def test_repeated_approval_sends_once(agent_settings: Settings) -> None:
    thread_id = _pending(agent_settings)
    service.approve_draft(viewer=OLIVIA, thread_id=thread_id, settings=agent_settings)
    restart()

    with pytest.raises(Conflict, match="answered"):
        service.approve_draft(
            viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
        )

    assert len(_outbox(agent_settings)) == 1


def test_empty_edit_is_refused_and_draft_still_waits(agent_settings: Settings) -> None:
    thread_id = _pending(agent_settings)

    with pytest.raises(InvalidInput):
        service.approve_draft(
            viewer=OLIVIA, thread_id=thread_id, text="  ", settings=agent_settings
        )

    thread = service.get_thread(
        viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
    )
    assert thread.status == "awaiting_review"
    assert _outbox(agent_settings) == []


def test_acknowledge_closes_a_notify_thread(agent_settings: Settings) -> None:
    thread_id = _pending(agent_settings, body="FYI, the numbers are in.")

    thread = service.acknowledge(
        viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
    )

    assert (thread.triage, thread.status) == ("notify", "acknowledged")
    with pytest.raises(Conflict):
        service.approve_draft(
            viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
        )


def test_failed_send_releases_claim_for_a_retry(agent_settings: Settings) -> None:
    thread_id = _pending(agent_settings)
    blocker = outbox_dir(settings=agent_settings, user_id="olivia")
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the outbox folder should be")

    with pytest.raises(OSError):
        service.approve_draft(
            viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
        )
    waiting = service.get_thread(
        viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
    )
    blocker.unlink()
    sent = service.approve_draft(
        viewer=OLIVIA, thread_id=thread_id, settings=agent_settings
    )

    assert waiting.status == "awaiting_review"
    assert sent.status == "answered"
    assert len(_outbox(agent_settings)) == 1


def test_first_message_from_tenant_opens_an_answered_thread(
    agent_settings: Settings,
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    mine = record(
        id="m1", sender=olivia.email, to=("carol@partner.example",), from_self=True
    )

    outcome = service.process_email(tenant=olivia, email=mine, settings=agent_settings)

    thread = service.get_thread(
        viewer=OLIVIA, thread_id=outcome.thread_id, settings=agent_settings
    )
    assert (outcome.created, outcome.triage) == (True, None)
    assert (thread.status, thread.triage, thread.draft) == ("answered", None, None)


def _audit_trail(settings: Settings) -> list[tuple[str, str, str | None, dict]]:
    with db.session_scope(settings) as session:
        events = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action).startswith("thread."))
            .order_by(col(AuditEvent.id))
        ).all()
        return [(e.actor, e.action, e.user_id, e.after or {}) for e in events]


def test_each_review_action_is_audited_under_the_reviewer(
    agent_settings: Settings,
) -> None:
    approved = _pending(agent_settings)
    olivia = load_tenant(agent_settings, "olivia")

    def pending(message_id: str, body: str = "Can we meet on Monday?") -> str:
        email = record(id=message_id, thread_key=f"t-{message_id}", body=body)
        outcome = service.process_email(
            tenant=olivia, email=email, settings=agent_settings
        )
        return outcome.thread_id

    edited, rejected = pending("m2"), pending("m3")
    noted = pending("m4", body="FYI, the numbers are in.")
    admin = Viewer.admin()

    service.approve_draft(viewer=OLIVIA, thread_id=approved, settings=agent_settings)
    service.approve_draft(
        viewer=admin, thread_id=edited, text="Yes. Olivia", settings=agent_settings
    )
    service.reject_draft(viewer=OLIVIA, thread_id=rejected, settings=agent_settings)
    service.acknowledge(viewer=OLIVIA, thread_id=noted, settings=agent_settings)

    assert _audit_trail(agent_settings) == [
        (
            "tenant:olivia",
            "thread.approve",
            "olivia",
            {"thread_id": approved, "status": "answered"},
        ),
        (
            "admin:local",
            "thread.edit",
            "olivia",
            {"thread_id": edited, "status": "answered"},
        ),
        (
            "tenant:olivia",
            "thread.reject",
            "olivia",
            {"thread_id": rejected, "status": "rejected"},
        ),
        (
            "tenant:olivia",
            "thread.ack",
            "olivia",
            {"thread_id": noted, "status": "acknowledged"},
        ),
    ]


def test_a_refused_review_leaves_no_audit_event(agent_settings: Settings) -> None:
    thread_id = _pending(agent_settings)

    with pytest.raises(InvalidInput):
        service.approve_draft(
            viewer=OLIVIA, thread_id=thread_id, text=" ", settings=agent_settings
        )
    with pytest.raises(Conflict):
        service.acknowledge(viewer=OLIVIA, thread_id=thread_id, settings=agent_settings)

    assert _audit_trail(agent_settings) == []
