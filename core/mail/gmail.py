"""The Gmail source: first a bounded sync of recent mail, then history.

The source reads mail that arrived in INBOX and mail the tenant sent (SENT): a sent
message marks its thread as answered. Drafts, spam and trash are never read.

The cursor holds Gmail's `history_id`. The first tick lists the last
INITIAL_SYNC_HOURS of INBOX and SENT with the profile's historyId read *before*
listing, so mail arriving during the listing shows up again in history instead of
being lost. Gmail keeps history ids for about a week; a 404 on a stale id falls
back to the same bounded full sync, and already processed ids are skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from functools import partial
from typing import Any

from googleapiclient.errors import HttpError

from core.errors import MessageUnparseable
from core.mail.credentials import load_credentials, store_credentials
from core.mail.gmail_client import (
    GmailCaller,
    build_service,
    decode_raw,
    encode_raw,
    status_of,
    unique,
)
from core.mail.parser import parse_message
from core.mail.processed import processed_ids
from core.mail.record import EmailRecord, FetchResult, OutgoingReply, ParseFailure
from core.models import TenantInfo
from core.settings import Settings

log = logging.getLogger(__name__)

INBOX = "INBOX"
SENT = "SENT"
CURSOR_KEY = "history_id"
# A draft was never sent, and spam or trash is not mail to answer.
UNWANTED = frozenset({"DRAFT", "SPAM", "TRASH"})
# Gmail's search braces mean "any of"; messages.list leaves out spam and trash.
INBOX_OR_SENT = "{in:inbox in:sent}"
# Without a label filter history also carries drafts and chats; large pages keep
# a busy mailbox to few calls, and a call costs the same whatever its size.
HISTORY_PAGE_SIZE = 500


class GmailSource:
    """New INBOX and SENT mail of one Gmail tenant since the cursor's history id."""

    def __init__(self, tenant: TenantInfo, *, settings: Settings) -> None:
        self.tenant = tenant
        self.settings = settings

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        with _Session(self.tenant, self.settings) as caller:
            start = cursor.get(CURSOR_KEY)
            if start is None:
                return self._full_sync(caller, reason="first sync")
            try:
                ids, newest = self._history(caller, str(start))
            except HttpError as err:
                if status_of(err) != 404:
                    raise
                return self._full_sync(caller, reason=f"history id {start} expired")
            return self._result(caller, ids, {CURSOR_KEY: newest})

    def _history(self, caller: GmailCaller, start: str) -> tuple[list[str], str]:
        """Ids of new INBOX or SENT mail since `start`, and the newest history id."""
        users = caller.service.users()
        ids: list[str] = []
        newest, token = start, None
        while True:
            # history.list takes a single labelId, so one unfiltered call (an idle
            # tick stays one call) is filtered here instead of one call per label.
            page = caller.call(
                partial(
                    users.history().list,
                    userId="me",
                    startHistoryId=start,
                    historyTypes=["messageAdded", "labelAdded"],
                    maxResults=HISTORY_PAGE_SIZE,
                    pageToken=token,
                )
            )
            for record in page.get("history", []):
                ids.extend(_new_mail(record))
            newest = page.get("historyId", newest)
            token = page.get("nextPageToken")
            if not token:
                return unique(ids), str(newest)

    def _full_sync(self, caller: GmailCaller, *, reason: str) -> FetchResult:
        users = caller.service.users()
        # Taken before listing: whatever arrives meanwhile is in history after it.
        profile = caller.call(lambda: users.getProfile(userId="me"))
        since = datetime.now(UTC) - timedelta(hours=self.settings.initial_sync_hours)
        ids = self._list_since(caller, since)
        log.info(
            "full Gmail sync for %s (%s): %d messages in the last %d hours",
            self.tenant.user_id,
            reason,
            len(ids),
            self.settings.initial_sync_hours,
        )
        return self._result(caller, ids, {CURSOR_KEY: str(profile["historyId"])})

    def _list_since(self, caller: GmailCaller, since: datetime) -> list[str]:
        users = caller.service.users()
        limit = self.settings.full_sync_max_messages
        ids: list[str] = []
        token = None
        while len(ids) < limit:
            page = caller.call(
                partial(
                    users.messages().list,
                    userId="me",
                    q=f"after:{max(int(since.timestamp()), 0)} {INBOX_OR_SENT}",
                    maxResults=min(limit, 500),
                    pageToken=token,
                )
            )
            ids.extend(m["id"] for m in page.get("messages", []))
            token = page.get("nextPageToken")
            if not token:
                break
        if len(ids) > limit:
            # Known limit: a full sync reads at most the newest N messages; older
            # ones in the window are not triaged.
            log.warning("full sync of %s capped at %d", self.tenant.user_id, limit)
        return unique(ids)[:limit]

    def _result(
        self, caller: GmailCaller, ids: list[str], next_cursor: dict[str, Any]
    ) -> FetchResult:
        done = processed_ids(owner=self.tenant.user_id, ids=ids, settings=self.settings)
        wanted = [i for i in ids if i not in done]
        messages, failures = self._fetch_raw(caller, wanted)
        messages.sort(key=lambda r: (r.date.astimezone(UTC), r.id))
        return FetchResult(
            messages=messages, failures=failures, next_cursor=next_cursor
        )

    def _fetch_raw(
        self, caller: GmailCaller, ids: list[str]
    ) -> tuple[list[EmailRecord], list[ParseFailure]]:
        messages = caller.service.users().messages()
        requests = {i: messages.get(userId="me", id=i, format="raw") for i in ids}
        answers = caller.fetch_batch(requests) if requests else {}

        records: list[EmailRecord] = []
        failures: list[ParseFailure] = []
        for message_id in ids:
            if message_id not in answers:
                continue
            try:
                records.append(self._record(answers[message_id]))
            except MessageUnparseable as err:
                log.error("skipping Gmail message %s: %s", message_id, err)
                failures.append(ParseFailure(id=message_id, reason=str(err)))
        return records, failures

    def _record(self, answer: dict[str, Any]) -> EmailRecord:
        labels = tuple(answer.get("labelIds", ()))
        arrived = datetime.fromtimestamp(int(answer["internalDate"]) / 1000, UTC)
        record = parse_message(
            decode_raw(answer.get("raw", "")),
            source_id=answer["id"],
            thread_key=answer["threadId"],
            labels=labels,
            fallback_date=arrived,
        )
        mine = record.from_address == self.tenant.email.strip().lower()
        return replace(record, from_self=True) if mine or "SENT" in labels else record


def _new_mail(record: dict[str, Any]) -> list[str]:
    """Ids in one history record of mail that arrived in INBOX or was sent."""
    added = [entry.get("message", {}) for entry in record.get("messagesAdded", [])]
    # Sending a draft can turn the draft's own message into the sent one: Gmail
    # then records SENT as a label added, not as a message added.
    added += [
        entry.get("message", {})
        for entry in record.get("labelsAdded", [])
        if SENT in entry.get("labelIds", [])
    ]
    return [m["id"] for m in added if _wanted(m.get("labelIds", []))]


def _wanted(labels: list[str]) -> bool:
    present = set(labels)
    return bool(present & {INBOX, SENT}) and not present & UNWANTED


class _Session:
    """A caller for one tenant; a token refreshed on the way is written back."""

    def __init__(self, tenant: TenantInfo, settings: Settings) -> None:
        self.tenant = tenant
        self.settings = settings

    def __enter__(self) -> GmailCaller:
        self.credentials = load_credentials(
            user_id=self.tenant.user_id, settings=self.settings
        )
        self.token = self.credentials.token
        service = build_service(self.credentials, settings=self.settings)
        return GmailCaller(service, user_id=self.tenant.user_id, settings=self.settings)

    def __exit__(self, *exc: object) -> None:
        # Even a failed tick keeps a refreshed token: the old one is expired.
        if self.credentials.token and self.credentials.token != self.token:
            store_credentials(
                user_id=self.tenant.user_id,
                credentials=self.credentials,
                settings=self.settings,
            )


@dataclass(frozen=True)
class SentReply:
    """What Gmail made of a reply: `id` is the sent message's, or the draft's (what
    sending it later needs); `message_id` is the message's either way, the id that
    history.list reports when the mail comes back on a tick."""

    id: str
    message_id: str


def send_reply(
    tenant: TenantInfo,
    reply: OutgoingReply,
    *,
    settings: Settings,
    as_draft: bool = False,
) -> SentReply:
    """Send `reply` in its Gmail thread, or save it as a draft."""
    body = {"raw": encode_raw(_mime(tenant, reply)), "threadId": reply.thread_key}
    with _Session(tenant, settings) as caller:
        users = caller.service.users()
        if as_draft:
            made = caller.call(
                lambda: users.drafts().create(userId="me", body={"message": body}),
                idempotent=False,
            )
        else:
            made = caller.call(
                lambda: users.messages().send(userId="me", body=body),
                idempotent=False,
            )
    log.info(
        "%s reply for %s in thread %s",
        "drafted" if as_draft else "sent",
        tenant.user_id,
        reply.thread_key,
    )
    message = made.get("message", made) if as_draft else made
    return SentReply(id=str(made["id"]), message_id=str(message["id"]))


def _mime(tenant: TenantInfo, reply: OutgoingReply) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr((tenant.display_name, tenant.email))
    msg["To"] = ", ".join(reply.to)
    msg["Subject"] = reply.subject
    references = list(reply.references)
    if reply.in_reply_to:
        msg["In-Reply-To"] = reply.in_reply_to
        if reply.in_reply_to not in references:
            references.append(reply.in_reply_to)
    if references:
        msg["References"] = " ".join(references)
    msg.set_content(reply.body)
    return msg.as_bytes()
