"""The fake Gmail server answers like Gmail on the calls mailcron makes."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.fake_gmail import FakeGmail
from tests.mail_support import make_message

EMAIL = "olivia@acme.example"


def _call(
    fake: FakeGmail, path: str, token: str | None, *, data: Any = None, **query: Any
) -> tuple[int, dict]:
    url = f"{fake.url}/gmail/v1/users/me/{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def account(fake_gmail: FakeGmail) -> str:
    access, _ = fake_gmail.add_account(EMAIL)
    return access


def test_request_without_bearer_token_is_unauthorized(
    fake_gmail: FakeGmail, account: str
) -> None:
    status, body = _call(fake_gmail, "profile", None)

    assert status == 401
    assert body["error"]["status"] == "UNAUTHENTICATED"


def test_list_filters_by_time_query_and_pages(
    fake_gmail: FakeGmail, account: str
) -> None:
    now = datetime.now(UTC)
    for hours in (50, 3, 2, 1):
        fake_gmail.add_message(
            EMAIL, make_message(), internal_date=now - timedelta(hours=hours)
        )
    after = int((now - timedelta(hours=24)).timestamp())

    status, first = _call(
        fake_gmail,
        "messages",
        account,
        q=f"after:{after}",
        labelIds="INBOX",
        maxResults=2,
    )
    _, second = _call(
        fake_gmail,
        "messages",
        account,
        q=f"after:{after}",
        maxResults=2,
        pageToken=first["nextPageToken"],
    )

    assert status == 200
    assert len(first["messages"]) == 2 and len(second["messages"]) == 1
    assert "nextPageToken" not in second
    assert set(first["messages"][0]) == {"id", "threadId"}


def test_get_full_and_metadata_formats(fake_gmail: FakeGmail, account: str) -> None:
    gmail_id = fake_gmail.add_message(EMAIL, make_message(subject="Formats"))

    _, full = _call(fake_gmail, f"messages/{gmail_id}", account, format="full")
    _, meta = _call(
        fake_gmail,
        f"messages/{gmail_id}",
        account,
        format="metadata",
        metadataHeaders=["Subject"],
    )

    assert full["payload"]["mimeType"] == "text/plain"
    assert full["payload"]["body"]["data"]
    assert meta["payload"]["headers"] == [{"name": "Subject", "value": "Formats"}]
    assert "body" not in meta["payload"]


def test_history_advances_and_expires(fake_gmail: FakeGmail, account: str) -> None:
    _, profile = _call(fake_gmail, "profile", account)
    fake_gmail.add_message(EMAIL, make_message())

    _, history = _call(
        fake_gmail,
        "history",
        account,
        startHistoryId=profile["historyId"],
        labelId="INBOX",
    )
    fake_gmail.expire_history(EMAIL)
    status, _ = _call(
        fake_gmail, "history", account, startHistoryId=profile["historyId"]
    )

    assert int(history["historyId"]) > int(profile["historyId"])
    assert len(history["history"][0]["messagesAdded"]) == 1
    assert status == 404


def test_replies_share_a_thread_and_modify_changes_labels(
    fake_gmail: FakeGmail, account: str
) -> None:
    root = fake_gmail.add_message(EMAIL, make_message(message_id="<r@x>"))
    reply = fake_gmail.add_message(
        EMAIL, make_message(message_id="<s@x>", in_reply_to="<r@x>")
    )

    _, thread = _call(fake_gmail, f"threads/{root}", account, format="minimal")
    _, modified = _call(
        fake_gmail,
        f"messages/{reply}/modify",
        account,
        data={"addLabelIds": ["STARRED"], "removeLabelIds": ["UNREAD"]},
    )

    assert [m["id"] for m in thread["messages"]] == [root, reply]
    assert modified["labelIds"] == ["INBOX", "STARRED"]


def test_injected_faults_hit_the_next_requests_and_are_counted(
    fake_gmail: FakeGmail, account: str
) -> None:
    fake_gmail.fail_next("getProfile", 429, count=2)

    statuses = [_call(fake_gmail, "profile", account)[0] for _ in range(3)]

    assert statuses == [429, 429, 200]
    assert fake_gmail.counts["getProfile"] == 3


def test_token_endpoint_refreshes_and_refuses_revoked_grants(
    fake_gmail: FakeGmail,
) -> None:
    _, refresh = fake_gmail.add_account(EMAIL)
    form = urllib.parse.urlencode(
        {"grant_type": "refresh_token", "refresh_token": refresh}
    ).encode()

    with urllib.request.urlopen(fake_gmail.token_uri, data=form, timeout=5) as answer:
        granted = json.loads(answer.read())
    fake_gmail.revoke(refresh)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(fake_gmail.token_uri, data=form, timeout=5)

    assert granted["access_token"] in fake_gmail.access_tokens
    assert json.loads(refused.value.read())["error"] == "invalid_grant"
