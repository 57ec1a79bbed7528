"""The fake Gmail server answers like Gmail on the calls mailcron makes."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
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


# --- messages.list: q, labelIds, paging --------------------------------------------


def _list_ids(fake: FakeGmail, token: str, **query: Any) -> list[str]:
    status, page = _call(fake, "messages", token, **query)
    assert status == 200, page
    return [m["id"] for m in page.get("messages", [])]


def _deliver_at(fake: FakeGmail, *moments: datetime, **kw: Any) -> list[str]:
    return [
        fake.add_message(EMAIL, make_message(), internal_date=m, **kw) for m in moments
    ]


def test_list_before_epoch_keeps_only_older_mail_newest_first(
    fake_gmail: FakeGmail, account: str
) -> None:
    now = datetime.now(UTC)
    old, older, recent = _deliver_at(
        fake_gmail, now - timedelta(hours=3), now - timedelta(hours=50), now
    )
    before = int((now - timedelta(hours=1)).timestamp())

    ids = _list_ids(fake_gmail, account, q=f"before:{before}")

    assert ids == [old, older]
    assert recent not in ids


def test_list_after_and_before_epochs_bound_a_window(
    fake_gmail: FakeGmail, account: str
) -> None:
    now = datetime.now(UTC)
    too_old, early, late, too_new = _deliver_at(
        fake_gmail, *(now - timedelta(hours=h) for h in (30, 20, 10, 1))
    )
    after = int((now - timedelta(hours=24)).timestamp())
    before = int((now - timedelta(hours=5)).timestamp())

    ids = _list_ids(fake_gmail, account, q=f"after:{after} before:{before} in:inbox")

    assert ids == [late, early]
    assert not {too_old, too_new} & set(ids)


def test_list_dates_in_q_mean_midnight_pacific_time(
    fake_gmail: FakeGmail, account: str
) -> None:
    # January: Pacific time is UTC-8, so a day starts at 08:00 UTC and 07:00 UTC
    # on 1 January is still 31 December there.
    still_december, first, last, after_january = _deliver_at(
        fake_gmail,
        datetime(2014, 1, 1, 7, 0, tzinfo=UTC),
        datetime(2014, 1, 1, 9, 0, tzinfo=UTC),
        datetime(2014, 2, 1, 7, 0, tzinfo=UTC),
        datetime(2014, 2, 1, 9, 0, tzinfo=UTC),
    )

    january = _list_ids(fake_gmail, account, q="after:2014/01/01 before:2014/02/01")
    later = _list_ids(fake_gmail, account, q="after:2014/02/01")

    assert january == [last, first]
    assert later == [after_january]
    assert still_december not in january + later


def test_list_label_ids_must_all_be_on_the_message(
    fake_gmail: FakeGmail, account: str
) -> None:
    now = datetime.now(UTC)
    [unread] = _deliver_at(fake_gmail, now, labels=("INBOX", "UNREAD"))
    [read] = _deliver_at(fake_gmail, now - timedelta(minutes=1), labels=("INBOX",))
    [sent] = _deliver_at(fake_gmail, now - timedelta(minutes=2), labels=("SENT",))

    inbox = _list_ids(fake_gmail, account, labelIds="INBOX")
    inbox_unread = _list_ids(fake_gmail, account, labelIds=["INBOX", "UNREAD"])
    sent_only = _list_ids(fake_gmail, account, labelIds="SENT")

    assert inbox == [unread, read]
    assert inbox_unread == [unread]
    assert sent_only == [sent]


def test_list_pages_give_every_match_once_newest_first(
    fake_gmail: FakeGmail, account: str
) -> None:
    now = datetime.now(UTC)
    delivered = _deliver_at(fake_gmail, *(now - timedelta(minutes=m) for m in range(5)))

    _, first = _call(fake_gmail, "messages", account, maxResults=2)
    _, second = _call(
        fake_gmail, "messages", account, maxResults=2, pageToken=first["nextPageToken"]
    )
    _, third = _call(
        fake_gmail, "messages", account, maxResults=2, pageToken=second["nextPageToken"]
    )

    pages = [first, second, third]
    assert [len(page["messages"]) for page in pages] == [2, 2, 1]
    assert [m["id"] for page in pages for m in page["messages"]] == delivered
    assert "nextPageToken" not in third


# --- shapes of recorded real Gmail answers ---------------------------------------
# The recordings are in the shared mail data (gmail-json/, see its README). A shape
# is an answer's keys and JSON types without its values, so the fake cannot drift
# from Gmail in what the client library and mailcron get to read.


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(_shape(item), sort_keys=True) for item in value})
    return type(value).__name__


def _recorded(mail_data: Path, name: str) -> Any:
    return json.loads((mail_data / "gmail-json" / name).read_text())


def _with_two_images() -> bytes:
    """The structure of the recorded full message: text and HTML, two PNGs."""
    msg = EmailMessage()
    msg["From"] = "Alice Example <alice@example.org>"
    msg["To"] = EMAIL
    msg["Subject"] = "Pictures"
    msg.set_content("Two pictures attached.")
    msg.add_alternative("<p>Two pictures attached.</p>", subtype="html")
    for name in ("img.PNG", "imageee.PNG"):
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        msg.add_attachment(png, maintype="image", subtype="png", filename=name)
    return msg.as_bytes()


def test_profile_has_gmails_shape(
    fake_gmail: FakeGmail, account: str, mail_data: Path
) -> None:
    real = _recorded(mail_data, "getProfile.json")

    _, profile = _call(fake_gmail, "profile", account)

    assert _shape(profile) == _shape(real)


def test_list_page_has_gmails_shape(
    fake_gmail: FakeGmail, account: str, mail_data: Path
) -> None:
    real = _recorded(mail_data, "messages.list__maxResults-100.json")
    for _ in range(3):
        fake_gmail.add_message(EMAIL, make_message())

    _, page = _call(fake_gmail, "messages", account, maxResults=2)

    assert _shape(page) == _shape(real)


def test_get_full_has_gmails_shape(
    fake_gmail: FakeGmail, account: str, mail_data: Path
) -> None:
    real = _recorded(mail_data, "messages.get__full__1926aae406722332.json")
    gmail_id = fake_gmail.add_message(EMAIL, _with_two_images())

    _, full = _call(fake_gmail, f"messages/{gmail_id}", account, format="full")

    assert _shape(full) == _shape(real)


def test_get_metadata_has_gmails_shape(
    fake_gmail: FakeGmail, account: str, mail_data: Path
) -> None:
    folder = mail_data / "gmail-json"
    real = {
        json.dumps(_shape(json.loads(path.read_text())), sort_keys=True)
        for path in folder.glob("messages.get__metadata__*.json")
    }
    gmail_id = fake_gmail.add_message(EMAIL, _with_two_images())

    _, meta = _call(fake_gmail, f"messages/{gmail_id}", account, format="metadata")

    assert len(real) == 1
    assert json.dumps(_shape(meta), sort_keys=True) in real


def test_get_minimal_and_minimal_thread_have_gmails_shape(
    fake_gmail: FakeGmail, account: str, mail_data: Path
) -> None:
    real_message = _recorded(mail_data, "messages.get__minimal__19dda5cc10eb51bb.json")
    real_thread = _recorded(mail_data, "threads.get__minimal__19dda5eba6976e6b.json")
    gmail_id = fake_gmail.add_message(EMAIL, make_message())

    _, message = _call(fake_gmail, f"messages/{gmail_id}", account, format="minimal")
    _, thread = _call(fake_gmail, f"threads/{gmail_id}", account, format="minimal")

    assert _shape(message) == _shape(real_message)
    assert _shape(thread) == _shape(real_thread)


def test_get_raw_has_the_full_shape_with_raw_for_payload(
    fake_gmail: FakeGmail, account: str, mail_data: Path
) -> None:
    # No raw answer was recorded; Gmail's reference says raw replaces payload.
    real_full = _shape(
        _recorded(mail_data, "messages.get__full__1926a973a99da24c.json")
    )
    gmail_id = fake_gmail.add_message(EMAIL, make_message())

    _, raw = _call(fake_gmail, f"messages/{gmail_id}", account, format="raw")

    expected = {key: kind for key, kind in real_full.items() if key != "payload"}
    assert _shape(raw) == {**expected, "raw": "str"}


def test_history_records_have_gmails_shapes(
    fake_gmail: FakeGmail, account: str, mail_data: Path
) -> None:
    real = _shape(_recorded(mail_data, "history.list__startHistoryId-86170.json"))
    _, profile = _call(fake_gmail, "profile", account)
    gmail_id = fake_gmail.add_message(EMAIL, make_message())
    _call(
        fake_gmail,
        f"messages/{gmail_id}/modify",
        account,
        data={"addLabelIds": ["STARRED"], "removeLabelIds": ["UNREAD"]},
    )

    _, history = _call(
        fake_gmail, "history", account, startHistoryId=profile["historyId"]
    )

    shape = _shape(history)
    assert shape.keys() == real.keys()
    assert shape["historyId"] == real["historyId"]
    # Three kinds of record: a message added, a label added, a label removed.
    assert len(shape["history"]) == 3
    assert set(shape["history"]) <= set(real["history"])
