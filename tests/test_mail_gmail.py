"""The Gmail source against the fake Gmail server: sync, faults, tokens, replies."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from itertools import pairwise
from typing import Any

import pytest

from core import crypto, db, jobs
from core.agent import service
from core.errors import QuotaExceeded, ReauthRequired, TransientError
from core.mail import source_for
from core.mail.gmail import send_reply
from core.mail.record import FetchResult, OutgoingReply
from core.models import GmailCredential, TenantInfo, User
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import restart
from tests.fakes.fake_gmail import FakeGmail
from tests.mail_support import (
    MALFORMED_DATES,
    connect_tenant,
    gmail_settings,
    make_message,
    mark_processed,
)

EMAIL = "olivia@acme.example"


@pytest.fixture
def gmail(
    settings: Settings, fake_gmail: FakeGmail
) -> tuple[Settings, TenantInfo, str]:
    current = gmail_settings(settings, fake_gmail)
    tenant, refresh = connect_tenant(fake_gmail, current)
    return current, tenant, refresh


def _deliver(
    fake: FakeGmail, n: int, *, hours_ago: float = 1, tag: str = "m"
) -> list[str]:
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    return [
        fake.add_message(
            EMAIL,
            make_message(subject=f"{tag} {i}", message_id=f"<{tag}-{i}@example.org>"),
            internal_date=when + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def _tick(
    settings: Settings, tenant: TenantInfo, cursor: dict[str, Any]
) -> FetchResult:
    """What the tick pipeline does: fetch, record processed, then keep the cursor."""
    result = source_for(tenant, settings=settings).fetch(cursor)
    mark_processed(settings, tenant.user_id, *(m.id for m in result.messages))
    return result


def test_first_sync_reads_recent_mail_not_old_or_archived(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    _deliver(fake_gmail, 1, hours_ago=72, tag="old")
    recent = _deliver(fake_gmail, 2, tag="new")
    fake_gmail.add_message(EMAIL, make_message(subject="archived"), labels=())
    profile_history = str(fake_gmail.current_history_id(EMAIL))

    result = source_for(tenant, settings=settings).fetch({})

    assert [m.id for m in result.messages] == recent
    assert [m.subject for m in result.messages] == ["new 0", "new 1"]
    assert fake_gmail.counts["batch"] == 1
    assert result.next_cursor == {"history_id": profile_history}
    assert all(m.thread_key and "INBOX" in m.labels for m in result.messages)


def test_ticks_with_mail_arriving_process_each_message_once(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    delivered = _deliver(fake_gmail, 2, tag="a")
    seen: list[str] = []
    cursor: dict[str, Any] = {}

    for round_ in range(4):
        result = _tick(settings, tenant, cursor)
        seen.extend(m.id for m in result.messages)
        cursor = result.next_cursor
        delivered += _deliver(fake_gmail, round_ + 1, tag=f"r{round_}")
    seen.extend(m.id for m in _tick(settings, tenant, cursor).messages)

    assert sorted(seen) == sorted(delivered)
    assert len(seen) == len(set(seen))
    assert fake_gmail.counts["messages.list"] == 1
    assert fake_gmail.counts["history.list"] == 4


def test_tick_repeated_with_old_cursor_after_crash_adds_no_duplicates(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    first = _tick(settings, tenant, {})
    _deliver(fake_gmail, 2)
    crashed = source_for(tenant, settings=settings).fetch(first.next_cursor)
    mark_processed(settings, tenant.user_id, crashed.messages[0].id)

    again = source_for(tenant, settings=settings).fetch(first.next_cursor)

    assert [m.id for m in again.messages] == [crashed.messages[1].id]


def test_stale_history_id_falls_back_once_without_duplicates(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    old = _deliver(fake_gmail, 3, tag="old")
    mark_processed(settings, tenant.user_id, *old)
    stale = {"history_id": str(fake_gmail.current_history_id(EMAIL))}
    fake_gmail.expire_history(EMAIL)
    new = _deliver(fake_gmail, 1, tag="new")
    profile_history = str(fake_gmail.current_history_id(EMAIL))

    fallback = _tick(settings, tenant, stale)
    later = _deliver(fake_gmail, 1, tag="later")
    following = _tick(settings, tenant, fallback.next_cursor)

    assert [m.id for m in fallback.messages] == new
    assert fallback.next_cursor == {"history_id": profile_history}
    assert [m.id for m in following.messages] == later
    assert fake_gmail.counts["messages.list"] == 1
    assert fake_gmail.counts["history.list"] == 2


def test_server_error_on_history_is_retried_not_a_full_sync(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    cursor = _tick(settings, tenant, {}).next_cursor
    new = _deliver(fake_gmail, 2)
    fake_gmail.fail_next("history.list", 500, count=2)

    result = _tick(settings, tenant, cursor)

    assert [m.id for m in result.messages] == new
    assert fake_gmail.counts["messages.list"] == 1


def test_server_errors_that_last_raise_transient_and_keep_cursor(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    cursor = _tick(settings, tenant, {}).next_cursor
    new = _deliver(fake_gmail, 1)
    fake_gmail.fail_next("history.list", 503, count=settings.gmail_retry_attempts)

    with pytest.raises(TransientError) as raised:
        source_for(tenant, settings=settings).fetch(cursor)
    retry = _tick(settings, tenant, cursor)

    assert not isinstance(raised.value, QuotaExceeded)
    assert [m.id for m in retry.messages] == new
    assert fake_gmail.counts["messages.list"] == 1


def test_rate_limits_inside_batches_lose_nothing(gmail, fake_gmail: FakeGmail) -> None:
    settings, tenant, _ = gmail
    delivered = _deliver(fake_gmail, 6)
    fake_gmail.fail_next("messages.get", 429, count=3)
    fake_gmail.fail_next("messages.get", 500, count=1)

    result = _tick(settings, tenant, {})

    assert [m.id for m in result.messages] == delivered
    assert fake_gmail.counts["messages.get"] == 10


def test_unauthorized_inside_a_batch_refreshes_and_retries(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    delivered = _deliver(fake_gmail, 3)
    fake_gmail.fail_next("messages.get", 401, count=1)

    result = _tick(settings, tenant, {})

    assert [m.id for m in result.messages] == delivered
    assert fake_gmail.counts["token"] == 1


def test_rate_limit_that_lasts_raises_quota_exceeded(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    fake_gmail.fail_next("getProfile", 429, count=settings.gmail_retry_attempts)

    with pytest.raises(QuotaExceeded):
        source_for(tenant, settings=settings).fetch({})


def test_unauthorized_with_failed_refresh_raises_reauth(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, refresh = gmail
    fake_gmail.expire_access_tokens()
    fake_gmail.revoke(refresh)

    with pytest.raises(ReauthRequired) as raised:
        source_for(tenant, settings=settings).fetch({})

    assert "invalid_grant" in str(raised.value)


def test_unauthorized_that_refresh_cannot_fix_raises_reauth(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    fake_gmail.fail_next("getProfile", 401, count=5)

    with pytest.raises(ReauthRequired) as raised:
        source_for(tenant, settings=settings).fetch({})

    assert "401" in str(raised.value)
    assert fake_gmail.counts["token"] >= 1


def test_refreshed_token_is_written_back_encrypted(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, refresh = gmail
    fake_gmail.expire_access_tokens()

    source_for(tenant, settings=settings).fetch({})

    with db.session_scope(settings) as session:
        row = session.get(GmailCredential, tenant.user_id)
        stored = json.loads(crypto.decrypt(row.token_encrypted, settings) or "{}")
    assert stored["token"] in fake_gmail.access_tokens
    assert stored["refresh_token"] == refresh
    assert refresh not in row.token_encrypted
    assert fake_gmail.counts["token"] == 1


def test_mail_from_the_tenant_is_marked(gmail, fake_gmail: FakeGmail) -> None:
    settings, tenant, _ = gmail
    # Gmail files what the tenant sends under SENT only, never INBOX.
    fake_gmail.add_message(
        EMAIL, make_message(sender=f"Olivia <{EMAIL}>", to="x@y.org"), labels=("SENT",)
    )
    fake_gmail.add_message(EMAIL, make_message())

    result = source_for(tenant, settings=settings).fetch({})

    assert sorted(m.from_self for m in result.messages) == [False, True]


def test_first_sync_reads_sent_mail_but_no_drafts_spam_or_trash(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    received = fake_gmail.add_message(EMAIL, make_message(subject="question"))
    sent = fake_gmail.add_message(EMAIL, _from_olivia("answer"), labels=("SENT",))
    for labels in (("DRAFT",), ("SPAM", "UNREAD"), ("SENT", "TRASH")):
        fake_gmail.add_message(EMAIL, _from_olivia(" ".join(labels)), labels=labels)

    result = source_for(tenant, settings=settings).fetch({})

    assert sorted(m.id for m in result.messages) == sorted([received, sent])
    assert [m.from_self for m in result.messages if m.id == sent] == [True]
    assert fake_gmail.counts["messages.list"] == 1


def test_reply_sent_from_gmail_arrives_on_the_next_tick_as_from_self(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    question = fake_gmail.add_message(EMAIL, _question())
    cursor = _tick(settings, tenant, {}).next_cursor
    reply = fake_gmail.add_message(EMAIL, _reply_to_question(), labels=("SENT",))

    result = _tick(settings, tenant, cursor)

    [arrived] = result.messages
    box = fake_gmail.mailboxes[EMAIL]
    assert arrived.id == reply and arrived.from_self
    assert arrived.thread_key == box.messages[question].thread_id
    assert arrived.labels == ("SENT",)


def test_gmail_draft_sent_later_arrives_as_from_self(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    fake_gmail.add_message(EMAIL, _question())
    first = _tick(settings, tenant, {})
    thread = first.messages[0].thread_key
    draft_id = send_reply(tenant, _reply(thread), settings=settings, as_draft=True).id
    # The draft itself is no mail: this tick reads nothing and moves the cursor on.
    cursor = _tick(settings, tenant, first.next_cursor).next_cursor

    sent = _send_draft_in_gmail(settings, tenant, draft_id)
    result = _tick(settings, tenant, cursor)

    assert [(m.id, m.from_self) for m in result.messages] == [(sent, True)]
    assert [m.thread_key for m in result.messages] == [thread]


def test_reply_sent_from_gmail_answers_the_thread_awaiting_review(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    olivia = Viewer.tenant(tenant.user_id)
    fake_gmail.add_message(EMAIL, _question())
    jobs.run_now(user_id=tenant.user_id, actor="test", settings=settings)
    [waiting] = service.list_threads(viewer=olivia, settings=settings)
    fake_gmail.add_message(EMAIL, _reply_to_question(), labels=("SENT",))

    try:
        run = jobs.run_now(user_id=tenant.user_id, actor="test", settings=settings)
        [thread] = service.list_threads(viewer=olivia, settings=settings)
    finally:
        restart()

    assert waiting.status == "awaiting_review"
    assert (run.status, run.emails_fetched) == ("ok", 1)
    assert (thread.thread_id, thread.status) == (waiting.thread_id, "answered")


def test_drafts_spam_and_trash_are_not_fetched_and_cost_one_call(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    fake_gmail.add_message(EMAIL, _question())
    first = _tick(settings, tenant, {})
    send_reply(
        tenant, _reply(first.messages[0].thread_key), settings=settings, as_draft=True
    )
    fake_gmail.add_message(EMAIL, make_message(subject="offer"), labels=("SPAM",))
    fake_gmail.add_message(EMAIL, _from_olivia("gone"), labels=("SENT", "TRASH"))
    fake_gmail.reset_counts()

    result = _tick(settings, tenant, first.next_cursor)

    assert result.messages == []
    assert dict(fake_gmail.counts) == {"history.list": 1}


def test_idle_tick_costs_one_history_call(gmail, fake_gmail: FakeGmail) -> None:
    settings, tenant, _ = gmail
    _deliver(fake_gmail, 2)
    fake_gmail.add_message(EMAIL, _from_olivia("sent"), labels=("SENT",))
    cursor = _tick(settings, tenant, {}).next_cursor
    fake_gmail.reset_counts()

    idle = _tick(settings, tenant, cursor)

    assert idle.messages == []
    assert dict(fake_gmail.counts) == {"history.list": 1}


def _send_draft_in_gmail(settings: Settings, tenant: TenantInfo, draft_id: str) -> str:
    """What the tenant's Send button on a Gmail draft does; the sent message's id."""
    from core.mail.credentials import load_credentials
    from core.mail.gmail_client import build_service

    credentials = load_credentials(user_id=tenant.user_id, settings=settings)
    drafts = build_service(credentials, settings=settings).users().drafts()
    return str(drafts.send(userId="me", body={"id": draft_id}).execute()["id"])


def _from_olivia(subject: str) -> bytes:
    return make_message(subject=subject, sender=f"Olivia <{EMAIL}>", to="x@y.org")


def _question() -> bytes:
    return make_message(
        sender="Carol Jones <carol@partner.example>",
        subject="Quarterly numbers",
        body="Can you send me the quarterly numbers by Friday?",
        message_id="<q1@partner.example>",
    )


def _reply_to_question() -> bytes:
    return make_message(
        sender=f"Olivia <{EMAIL}>",
        to="carol@partner.example",
        subject="Re: Quarterly numbers",
        body="They come Friday morning.",
        message_id="<a1@acme.example>",
        in_reply_to="<q1@partner.example>",
    )


def _reply(thread_key: str) -> OutgoingReply:
    return OutgoingReply(
        thread_key=thread_key,
        to=("carol@partner.example",),
        subject="Re: Quarterly numbers",
        body="They come Friday morning.",
        in_reply_to="<q1@partner.example>",
        references=("<q1@partner.example>",),
    )


@pytest.mark.parametrize("padded", [False, True])
def test_raw_message_decodes_with_or_without_padding(
    gmail, fake_gmail: FakeGmail, padded: bool
) -> None:
    settings, tenant, _ = gmail
    fake_gmail.pad_raw = padded
    fake_gmail.add_message(EMAIL, make_message(subject="Gruss", body="Grüße aus Köln"))

    result = source_for(tenant, settings=settings).fetch({})

    assert [m.body for m in result.messages] == ["Grüße aus Köln"]


def test_unknown_user_token_raises_reauth(settings: Settings) -> None:
    tenant = TenantInfo(user_id="nobody", email="nobody@acme.example")

    with pytest.raises(ReauthRequired):
        source_for(tenant, settings=settings).fetch({})


def test_send_reply_sends_in_thread_with_reply_headers(
    gmail, fake_gmail: FakeGmail
) -> None:
    settings, tenant, _ = gmail
    first = fake_gmail.add_message(
        EMAIL, make_message(subject="Plan", message_id="<plan@example.org>")
    )
    thread = fake_gmail.mailboxes[EMAIL].messages[first].thread_id
    reply = OutgoingReply(
        thread_key=thread,
        to=("alice@example.org",),
        subject="Re: Plan",
        body="Sounds good.",
        in_reply_to="<plan@example.org>",
        references=("<plan@example.org>",),
    )

    sent_id = send_reply(tenant, reply, settings=settings).id
    draft = send_reply(tenant, reply, settings=settings, as_draft=True)
    draft_id = draft.id

    sent = fake_gmail.mailboxes[EMAIL].messages[sent_id]
    headers = message_from_bytes(sent.raw)
    assert sent.thread_id == thread and sent.labels == ["SENT"]
    assert headers["In-Reply-To"] == "<plan@example.org>"
    assert headers["References"] == "<plan@example.org>"
    assert draft_id.startswith("r")
    assert fake_gmail.mailboxes[EMAIL].messages[draft.message_id].labels == ["DRAFT"]
    assert fake_gmail.counts["drafts.create"] == 1


def test_stored_token_without_refresh_token_keeps_the_old_one(gmail) -> None:
    from google.oauth2.credentials import Credentials

    from core.mail.credentials import load_credentials, store_credentials

    settings, tenant, refresh = gmail
    newer = Credentials(token="ya29.newer", client_id="c", client_secret="s")

    store_credentials(user_id=tenant.user_id, credentials=newer, settings=settings)
    loaded = load_credentials(user_id=tenant.user_id, settings=settings)

    assert loaded.token == "ya29.newer"
    assert loaded.refresh_token == refresh
    assert loaded.token_uri == settings.google_token_uri


def test_token_under_another_key_raises_decryption_failed(gmail) -> None:
    from core.errors import DecryptionFailed
    from core.mail.credentials import load_credentials

    settings, tenant, _ = gmail
    other = settings.model_copy(update={"secret_key": crypto.new_key()})

    with pytest.raises(DecryptionFailed):
        load_credentials(user_id=tenant.user_id, settings=other)


def test_user_row_is_untouched_by_fetch(gmail) -> None:
    settings, tenant, _ = gmail

    source_for(tenant, settings=settings).fetch({})

    with db.session_scope(settings) as session:
        assert session.get(User, tenant.user_id).cursor == {}


def test_raw_is_base64url(fake_gmail: FakeGmail) -> None:
    fake_gmail.add_account(EMAIL)
    gmail_id = fake_gmail.add_message(EMAIL, b"Subject: ?>?\r\n\r\n\xff\xfe>>>\r\n")
    stored = fake_gmail.mailboxes[EMAIL].messages[gmail_id]

    encoded = fake_gmail.render(stored, _raw_request())["raw"]

    assert "+" not in encoded and "/" not in encoded
    assert base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)) == stored.raw


def _raw_request():
    from tests.fakes.gmail_wire import Request

    return Request("GET", "", {"format": ["raw"]}, {}, b"")


def test_client_calls_carry_the_configured_timeout(gmail) -> None:
    from core.mail.credentials import load_credentials
    from core.mail.gmail_client import build_service

    settings, tenant, _ = gmail
    credentials = load_credentials(user_id=tenant.user_id, settings=settings)

    service = build_service(credentials, settings=settings)

    assert service._http.http.timeout == settings.http_timeout_seconds


@pytest.mark.parametrize("date_header", MALFORMED_DATES)
def test_malformed_date_falls_back_to_gmails_internal_date(
    gmail, fake_gmail: FakeGmail, date_header: str
) -> None:
    settings, tenant, _ = gmail
    # A quarter second survives internalDate's milliseconds exactly.
    arrived = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=250_000)
    raw = f"Date: {date_header}\n".encode() + make_message(subject="Undated")
    fake_gmail.add_message(EMAIL, raw, internal_date=arrived)

    [record] = source_for(tenant, settings=settings).fetch({}).messages

    assert record.subject == "Undated"
    assert record.date == arrived
    assert record.date.utcoffset() == timedelta(0)


# --- retry waits ---------------------------------------------------------------
# core.mail.gmail_client retries with tenacity's wait_exponential_jitter(
# multiplier=base, max=32 * base, jitter=base): the wait after attempt n is
# min(base * 2 ** (n - 1) + uniform(0, base), 32 * base).

# Thread switches and the client's own work on a busy machine, per gap.
SCHEDULING_SLACK = 0.3


@pytest.fixture
def slow_retries(
    configure, fake_gmail: FakeGmail, tmp_path
) -> tuple[Settings, TenantInfo]:
    """A SQLite tenant on the fake, with the retry base set through the environment."""
    url = f"sqlite:///{tmp_path / 'data' / 'mailcron.db'}"
    current = configure(
        DATABASE_URL=url, SECRET_KEY=crypto.new_key(), GMAIL_RETRY_BASE_SECONDS="0.05"
    )
    db.upgrade(current)
    current = gmail_settings(
        current, fake_gmail, gmail_retry_base_seconds=current.gmail_retry_base_seconds
    )
    tenant, _ = connect_tenant(fake_gmail, current)
    return current, tenant


def _gaps(arrivals: list[float]) -> list[float]:
    return [later - earlier for earlier, later in pairwise(arrivals)]


# Its first four draws are 0.24, 0.54, 0.37 and 0.60 of the jitter's range: all
# well above the millisecond or two a retry costs besides its wait.
JITTER_SEED = 3


@pytest.fixture
def seeded_random() -> Iterator[int]:
    """tenacity draws its jitter from `random`; a seed makes the draws known."""
    state = random.getstate()
    random.seed(JITTER_SEED)
    yield JITTER_SEED
    random.setstate(state)


def test_retries_back_off_exponentially_with_jitter(
    slow_retries, fake_gmail: FakeGmail, seeded_random: int
) -> None:
    settings, tenant = slow_retries
    base = settings.gmail_retry_base_seconds
    fake_gmail.fail_next("getProfile", 429, count=2)
    fake_gmail.fail_next("getProfile", 500, count=2)
    draws = random.Random(seeded_random)
    waits = [base * 2**n + draws.uniform(0, base) for n in range(4)]

    source_for(tenant, settings=settings).fetch({})

    gaps = _gaps(fake_gmail.arrivals["getProfile"])
    assert base == 0.05
    assert len(gaps) == settings.gmail_retry_attempts - 1 == 4
    # A retry cannot arrive before its wait is over; it may arrive a little after.
    for gap, wait in zip(gaps, waits, strict=True):
        assert wait <= gap <= wait + SCHEDULING_SLACK, (gaps, waits)


def test_retry_waits_stop_growing_at_32_times_the_base(
    slow_retries, fake_gmail: FakeGmail
) -> None:
    settings, tenant = slow_retries
    settings = settings.model_copy(
        update={"gmail_retry_base_seconds": 0.01, "gmail_retry_attempts": 8}
    )
    fake_gmail.fail_next("getProfile", 503, count=7)

    source_for(tenant, settings=settings).fetch({})

    gaps = _gaps(fake_gmail.arrivals["getProfile"])
    assert len(gaps) == 7
    assert all(gap >= 0.01 * 2**n for n, gap in enumerate(gaps[:6])), gaps
    # Uncapped, the seventh wait would be 0.64 s at least, beyond even the slack.
    assert 0.32 <= gaps[6] <= 0.32 + SCHEDULING_SLACK, gaps
