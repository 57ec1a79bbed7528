"""Review of a Gmail tenant's draft: one reply through Gmail, in the right thread.

Mail arrives in the fake Gmail mailbox, a real tick drafts the reply, and the
approval goes out through the fake's API, whose request counts and stored raw
messages are what the tests read.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from core import jobs
from core.agent import service
from core.errors import Conflict, TransientError
from core.settings import Settings
from core.timeutil import utcnow
from core.viewer import Viewer
from tests.agent.kit import restart
from tests.fakes.fake_gmail import FakeGmail, StoredMessage
from tests.mail_support import connect_tenant, gmail_settings, make_message

EMAIL = "olivia@acme.example"
OLIVIA = Viewer.tenant("olivia")
QUESTION_ID = "<q1@partner.example>"


def _connect(settings: Settings, fake: FakeGmail, **extra: object) -> Settings:
    current = gmail_settings(settings, fake, **extra)
    connect_tenant(fake, current)
    return current


def _pending_reply(settings: Settings, fake: FakeGmail) -> tuple[str, str]:
    """Carol asks Olivia a question and a tick drafts the reply.

    Returns the assistant's thread id and the Gmail thread id of the question.
    """
    question = make_message(
        sender="Carol Jones <carol@partner.example>",
        to=EMAIL,
        subject="Quarterly numbers",
        body="Can you send me the quarterly numbers by Friday?",
        date=utcnow(),
        message_id=QUESTION_ID,
    )
    gmail_id = fake.add_message(EMAIL, question)
    run = jobs.run_now(user_id="olivia", actor="test", settings=settings)
    [thread] = service.list_threads(viewer=OLIVIA, settings=settings)
    assert (run.status, thread.status) == ("ok", "awaiting_review")
    assert thread.draft

    # Count only what the review does, in a process that did not run the tick.
    fake.reset_counts()
    # Gmail files a sent message in a thread by the request's threadId; the fake
    # would also match the In-Reply-To header, which would hide a missing threadId.
    fake.mailboxes[EMAIL].threads_by_header.clear()
    restart()
    return thread.thread_id, fake.mailboxes[EMAIL].messages[gmail_id].thread_id


def _outgoing(fake: FakeGmail, label: str) -> list[StoredMessage]:
    box = fake.mailboxes[EMAIL]
    return [m for m in box.messages.values() if label in m.labels]


def _parsed(stored: StoredMessage) -> EmailMessage:
    message = message_from_bytes(stored.raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_approve_sends_one_threaded_reply_through_gmail(
    agent_settings: Settings, fake_gmail: FakeGmail
) -> None:
    settings = _connect(agent_settings, fake_gmail)
    thread_id, gmail_thread = _pending_reply(settings, fake_gmail)

    thread = service.approve_draft(
        viewer=OLIVIA, thread_id=thread_id, settings=settings
    )

    [sent] = _outgoing(fake_gmail, "SENT")
    message = _parsed(sent)
    assert fake_gmail.counts["messages.send"] == 1
    assert fake_gmail.counts["drafts.create"] == 0
    assert sent.thread_id == gmail_thread
    assert message["To"] == "carol@partner.example"
    assert message["Subject"] == "Re: Quarterly numbers"
    assert message["In-Reply-To"] == QUESTION_ID
    assert message["References"] == QUESTION_ID
    assert message["From"] == EMAIL
    assert message.get_content().strip() == (thread.draft or "").strip()
    assert thread.status == "answered"


def test_approving_again_sends_nothing_more_even_after_a_restart(
    agent_settings: Settings, fake_gmail: FakeGmail
) -> None:
    settings = _connect(agent_settings, fake_gmail)
    thread_id, _ = _pending_reply(settings, fake_gmail)
    service.approve_draft(viewer=OLIVIA, thread_id=thread_id, settings=settings)

    with pytest.raises(Conflict, match="answered"):
        service.approve_draft(viewer=OLIVIA, thread_id=thread_id, settings=settings)
    restart()
    with pytest.raises(Conflict, match="answered"):
        service.approve_draft(viewer=OLIVIA, thread_id=thread_id, settings=settings)

    assert fake_gmail.counts["messages.send"] == 1
    assert len(_outgoing(fake_gmail, "SENT")) == 1


def test_approve_in_draft_mode_creates_one_gmail_draft_and_sends_nothing(
    agent_settings: Settings, fake_gmail: FakeGmail
) -> None:
    settings = _connect(agent_settings, fake_gmail, send_mode="gmail_draft")
    thread_id, gmail_thread = _pending_reply(settings, fake_gmail)

    thread = service.approve_draft(
        viewer=OLIVIA, thread_id=thread_id, settings=settings
    )

    [draft] = _outgoing(fake_gmail, "DRAFT")
    message = _parsed(draft)
    assert fake_gmail.counts["drafts.create"] == 1
    assert fake_gmail.counts["messages.send"] == 0
    assert _outgoing(fake_gmail, "SENT") == []
    assert draft.thread_id == gmail_thread
    assert message["In-Reply-To"] == QUESTION_ID
    assert message["References"] == QUESTION_ID
    assert message.get_content().strip() == (thread.draft or "").strip()


def test_edited_approval_sends_the_edited_text_through_gmail(
    agent_settings: Settings, fake_gmail: FakeGmail
) -> None:
    settings = _connect(agent_settings, fake_gmail)
    thread_id, gmail_thread = _pending_reply(settings, fake_gmail)
    edit = "Hi Carol, the numbers come Friday morning. Olivia"

    thread = service.approve_draft(
        viewer=OLIVIA, thread_id=thread_id, text=edit, settings=settings
    )

    [sent] = _outgoing(fake_gmail, "SENT")
    assert fake_gmail.counts["messages.send"] == 1
    assert sent.thread_id == gmail_thread
    assert _parsed(sent).get_content().strip() == edit
    assert (thread.status, thread.draft) == ("answered", edit)


@pytest.mark.parametrize("mode", ["send", "gmail_draft"])
def test_the_next_tick_does_not_reopen_the_thread_our_reply_answered(
    agent_settings: Settings, fake_gmail: FakeGmail, mode: str
) -> None:
    settings = _connect(agent_settings, fake_gmail, send_mode=mode)
    thread_id, _ = _pending_reply(settings, fake_gmail)
    approved = service.approve_draft(
        viewer=OLIVIA, thread_id=thread_id, settings=settings
    )

    run = jobs.run_now(user_id="olivia", actor="test", settings=settings)

    thread = service.get_thread(viewer=OLIVIA, thread_id=thread_id, settings=settings)
    assert (run.status, run.emails_fetched) == ("ok", 0)
    assert (thread.status, thread.draft) == ("answered", approved.draft)
    assert approved.draft


def test_a_send_answered_500_is_not_retried_and_the_draft_still_waits(
    agent_settings: Settings, fake_gmail: FakeGmail
) -> None:
    settings = _connect(agent_settings, fake_gmail, gmail_retry_base_seconds=0.001)
    thread_id, _ = _pending_reply(settings, fake_gmail)
    fake_gmail.fail_next("messages.send", 500)

    with pytest.raises(TransientError, match="look in Sent before trying again"):
        service.approve_draft(viewer=OLIVIA, thread_id=thread_id, settings=settings)

    thread = service.get_thread(viewer=OLIVIA, thread_id=thread_id, settings=settings)
    assert fake_gmail.counts["messages.send"] == 1
    assert thread.status == "awaiting_review"


def test_a_send_answered_429_goes_again_and_sends_once(
    agent_settings: Settings, fake_gmail: FakeGmail
) -> None:
    settings = _connect(agent_settings, fake_gmail, gmail_retry_base_seconds=0.001)
    thread_id, _ = _pending_reply(settings, fake_gmail)
    fake_gmail.fail_next("messages.send", 429)

    thread = service.approve_draft(
        viewer=OLIVIA, thread_id=thread_id, settings=settings
    )

    assert fake_gmail.counts["messages.send"] == 2
    assert len(_outgoing(fake_gmail, "SENT")) == 1
    assert thread.status == "answered"
