"""A fake Gmail API and Google token endpoint: a real HTTP server on loopback.

It speaks the Gmail v1 JSON shapes for the calls mailcron makes (profile, messages
list/get/modify/send, drafts create/send, threads.get, history.list, the batch endpoint)
and the OAuth token endpoint's refresh grant. Tests drive it through `FakeGmail`:
add accounts and mail while it runs, inject faults, read request counts and
arrival times.

Routes live in one table (`FakeGmail.routes`), so later work adds endpoints
(authorization, revoke) by appending a handler.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.fake_oauth import FakeOAuth
from tests.fakes.gmail_wire import (
    Request,
    Response,
    b64url,
    batch_part,
    error_response,
    header_date,
    inner_request,
    json_response,
    label_groups,
    message_id_of,
    minimal_request,
    page_of,
    payload_of,
    snippet_of,
    unb64url,
)

API = "/gmail/v1/users/"
# Gmail reads a yyyy/mm/dd date in a search as midnight Pacific time, not UTC
# (its filtering guide); only epoch seconds name an exact instant.
SEARCH_ZONE = ZoneInfo("America/Los_Angeles")


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes
    labels: list[str]
    internal_date: int  # milliseconds since the epoch, as Gmail gives it
    history_id: int


@dataclass
class Mailbox:
    email: str
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    # (history id, kind, message id, labels touched)
    history: list[tuple[int, str, str, list[str]]] = field(default_factory=list)
    oldest_history_id: int = 1
    # Message-ID header -> Gmail thread id, to thread replies as Gmail does.
    threads_by_header: dict[str, str] = field(default_factory=dict)


class FakeGmail:
    """State and behaviour of the fake; `url` is where it listens."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.mailboxes: dict[str, Mailbox] = {}
        self.access_tokens: dict[str, str] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.revoked_refresh_tokens: set[str] = set()
        self.counts: Counter[str] = Counter()
        # time.monotonic() of each request by method, to measure retry waits.
        self.arrivals: defaultdict[str, list[float]] = defaultdict(list)
        self.faults: dict[str, list[int]] = defaultdict(list)
        self.pad_raw = False
        self._ids = itertools.count(0x18C0_0000_0000_0000 + 1)
        self._history = itertools.count(1000)
        self._tokens = itertools.count(1)
        self.routes: list[tuple[str, re.Pattern[str], str, Callable[..., Response]]] = [
            ("POST", re.compile(r"^/token$"), "token", self._token),
            ("POST", re.compile(r"^/batch/gmail/v1$"), "batch", self._batch),
            ("GET", self._api(r"profile"), "getProfile", self._profile),
            ("GET", self._api(r"messages"), "messages.list", self._list),
            ("POST", self._api(r"messages/send"), "messages.send", self._send),
            ("GET", self._api(r"messages/([^/]+)"), "messages.get", self._get),
            (
                "POST",
                self._api(r"messages/([^/]+)/modify"),
                "messages.modify",
                self._modify,
            ),
            ("POST", self._api(r"drafts"), "drafts.create", self._draft),
            ("POST", self._api(r"drafts/send"), "drafts.send", self._send_draft),
            ("GET", self._api(r"threads/([^/]+)"), "threads.get", self._thread),
            ("GET", self._api(r"history"), "history.list", self._history_list),
        ]
        # Google's OAuth endpoints: authorization (a consent page), code exchange
        # on the token route, revoke.
        self.oauth = FakeOAuth(self)
        self.routes.extend(self.oauth.routes())
        self.unauthenticated = {"token", "batch", *self.oauth.route_names()}
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> FakeGmail:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-gmail",
            daemon=True,
        )
        thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def batch_uri(self) -> str:
        return f"{self.url}/batch/gmail/v1"

    @property
    def auth_uri(self) -> str:
        return f"{self.url}/o/oauth2/auth"

    @property
    def revoke_uri(self) -> str:
        return f"{self.url}/revoke"

    def new_access_token(self, email: str) -> str:
        with self.lock:
            return self._new_access_token(email)

    # --- test controls ---------------------------------------------------------

    def add_account(self, email: str) -> tuple[str, str]:
        """A mailbox with a fresh (access token, refresh token) pair."""
        with self.lock:
            self.mailboxes.setdefault(email, Mailbox(email=email))
            access = self._new_access_token(email)
            refresh = f"1//fake-refresh-{uuid.uuid4().hex}"
            self.refresh_tokens[refresh] = email
            return access, refresh

    def add_message(
        self,
        email: str,
        raw: bytes,
        *,
        labels: tuple[str, ...] = ("INBOX", "UNREAD"),
        internal_date: datetime | None = None,
        thread_id: str | None = None,
    ) -> str:
        """Deliver a message (as if it just arrived) and return its Gmail id."""
        with self.lock:
            box = self.mailboxes[email]
            message_id = f"{next(self._ids):x}"
            when = internal_date or header_date(raw) or datetime.now(UTC)
            stored = StoredMessage(
                id=message_id,
                thread_id=thread_id or self._thread_for(box, raw) or message_id,
                raw=raw,
                labels=list(labels),
                internal_date=int(when.timestamp() * 1000),
                history_id=next(self._history),
            )
            box.messages[message_id] = stored
            own = message_id_of(raw)
            if own:
                box.threads_by_header.setdefault(own, stored.thread_id)
            box.history.append((stored.history_id, "messageAdded", message_id, []))
            return message_id

    def add_folder(self, email: str, folder: Path, **kw: Any) -> list[str]:
        return [
            self.add_message(email, path.read_bytes(), **kw)
            for path in sorted(folder.rglob("*.eml"))
        ]

    def fail_next(self, method: str, status: int, count: int = 1) -> None:
        """Answer the next `count` requests of `method` with `status`."""
        with self.lock:
            self.faults[method].extend([status] * count)

    def expire_history(self, email: str) -> None:
        """Forget every history id up to now, as Gmail does after about a week."""
        with self.lock:
            box = self.mailboxes[email]
            box.oldest_history_id = self.current_history_id(email) + 1

    def revoke(self, refresh_token: str) -> None:
        with self.lock:
            self.revoked_refresh_tokens.add(refresh_token)

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def current_history_id(self, email: str) -> int:
        box = self.mailboxes[email]
        newest = max((h[0] for h in box.history), default=0)
        return max(newest, box.oldest_history_id - 1, 999)

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.arrivals.clear()

    # --- dispatch --------------------------------------------------------------

    def handle(self, request: Request, *, outer_auth: str | None = None) -> Response:
        for method, pattern, name, handler in self.routes:
            match = pattern.match(request.path)
            if method != request.method or not match:
                continue
            with self.lock:
                self.counts[name] += 1
                self.arrivals[name].append(time.monotonic())
                fault = self.faults[name].pop(0) if self.faults[name] else None
            if fault is not None:
                return error_response(fault)
            if name in self.unauthenticated:
                return handler(request)
            account = self._account(request, match.group(1), outer_auth)
            if account is None:
                return error_response(401, "Request had invalid authentication.")
            with self.lock:
                return handler(request, self.mailboxes[account], *match.groups()[1:])
        return error_response(404, f"No route for {request.method} {request.path}")

    def _api(self, tail: str) -> re.Pattern[str]:
        return re.compile(rf"^{API}([^/]+)/{tail}$")

    def _account(self, request: Request, user: str, outer: str | None) -> str | None:
        header = request.headers.get("authorization") or outer or ""
        token = header.removeprefix("Bearer ").strip()
        with self.lock:
            email = self.access_tokens.get(token)
        if email is None or user not in ("me", email):
            return None
        return email

    def _new_access_token(self, email: str) -> str:
        token = f"ya29.fake-{next(self._tokens)}-{uuid.uuid4().hex[:8]}"
        self.access_tokens[token] = email
        return token

    # --- OAuth -----------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        refresh = form.get("refresh_token", "")
        with self.lock:
            email = self.refresh_tokens.get(refresh)
            revoked = refresh in self.revoked_refresh_tokens
            if form.get("grant_type") == "authorization_code":
                return self.oauth.exchange(request, form)
            if form.get("grant_type") != "refresh_token" or email is None or revoked:
                return json_response(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            access = self._new_access_token(email)
        return json_response(
            200,
            {
                "access_token": access,
                "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/gmail.modify",
                "token_type": "Bearer",
            },
        )

    # --- Gmail methods ---------------------------------------------------------

    def _profile(self, request: Request, box: Mailbox) -> Response:
        return json_response(
            200,
            {
                "emailAddress": box.email,
                "messagesTotal": len(box.messages),
                "threadsTotal": len({m.thread_id for m in box.messages.values()}),
                "historyId": str(self.current_history_id(box.email)),
            },
        )

    def _list(self, request: Request, box: Mailbox) -> Response:
        after, before = _search_bounds(request.arg("q") or "")
        groups = label_groups(request.arg("q") or "")
        labels = request.query.get("labelIds", [])
        found = [
            m
            for m in box.messages.values()
            if all(label in m.labels for label in labels)
            and all(group & set(m.labels) for group in groups)
            and (labels or not {"SPAM", "TRASH", "DRAFT"} & set(m.labels))
            and (after is None or m.internal_date // 1000 > after)
            and (before is None or m.internal_date // 1000 < before)
        ]
        found.sort(key=lambda m: (m.internal_date, m.id), reverse=True)
        page, token = page_of(found, request, default_size=100, max_size=500)
        data: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            data["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if token:
            data["nextPageToken"] = token
        return json_response(200, data)

    def _get(self, request: Request, box: Mailbox, message_id: str) -> Response:
        stored = box.messages.get(message_id)
        if stored is None:
            return error_response(404, "Requested entity was not found.")
        return json_response(200, self.render(stored, request))

    def render(self, stored: StoredMessage, request: Request) -> dict[str, Any]:
        fmt = request.arg("format", "full")
        data: dict[str, Any] = {
            "id": stored.id,
            "threadId": stored.thread_id,
            "labelIds": list(stored.labels),
        }
        # Recorded Gmail answers: minimal has no snippet and a payload of only
        # its partId; metadata's payload is the top part's type and headers.
        if fmt != "minimal":
            data["snippet"] = snippet_of(stored.raw)
        if fmt == "raw":
            data["raw"] = b64url(stored.raw, pad=self.pad_raw)
        elif fmt == "minimal":
            data["payload"] = {"partId": ""}
        elif fmt in ("full", "metadata"):
            data["payload"] = _payload(stored.raw, request, full=fmt == "full")
        data["sizeEstimate"] = len(stored.raw)
        data["historyId"] = str(stored.history_id)
        data["internalDate"] = str(stored.internal_date)
        return data

    def _modify(self, request: Request, box: Mailbox, message_id: str) -> Response:
        stored = box.messages.get(message_id)
        if stored is None:
            return error_response(404, "Requested entity was not found.")
        body = request.json()
        self._relabel(
            box, stored, body.get("addLabelIds", []), body.get("removeLabelIds", [])
        )
        return json_response(200, self.render(stored, minimal_request()))

    def _relabel(
        self, box: Mailbox, stored: StoredMessage, add: list[str], remove: list[str]
    ) -> None:
        added = [x for x in add if x not in stored.labels]
        removed = [x for x in remove if x in stored.labels]
        stored.labels = [x for x in stored.labels if x not in removed] + added
        for kind, labels in (("labelAdded", added), ("labelRemoved", removed)):
            if labels:
                box.history.append((next(self._history), kind, stored.id, labels))

    def _send(self, request: Request, box: Mailbox) -> Response:
        body = request.json()
        stored = self._store_outgoing(box, body, ("SENT",))
        return json_response(200, self.render(stored, minimal_request()))

    def _draft(self, request: Request, box: Mailbox) -> Response:
        body = request.json().get("message", {})
        stored = self._store_outgoing(box, body, ("DRAFT",))
        data = {
            "id": f"r{stored.id}",
            "message": self.render(stored, minimal_request()),
        }
        return json_response(200, data)

    def _send_draft(self, request: Request, box: Mailbox) -> Response:
        draft_id = str(request.json().get("id", ""))
        stored = box.messages.get(draft_id.removeprefix("r"))
        if stored is None or "DRAFT" not in stored.labels:
            return error_response(404, "Requested entity was not found.")
        # Gmail sends the draft's own message: DRAFT gives way to SENT, which
        # history records as labels removed and added, not as a message added.
        stored.internal_date = int(datetime.now(UTC).timestamp() * 1000)
        self._relabel(box, stored, ["SENT"], ["DRAFT"])
        return json_response(200, self.render(stored, minimal_request()))

    def _store_outgoing(
        self, box: Mailbox, body: dict[str, Any], labels: tuple[str, ...]
    ) -> StoredMessage:
        raw = unb64url(body.get("raw", ""))
        message_id = self.add_message(
            box.email,
            raw,
            labels=labels,
            internal_date=datetime.now(UTC),
            thread_id=body.get("threadId"),
        )
        return box.messages[message_id]

    def _thread(self, request: Request, box: Mailbox, thread_id: str) -> Response:
        members = sorted(
            (m for m in box.messages.values() if m.thread_id == thread_id),
            key=lambda m: (m.internal_date, m.id),
        )
        if not members:
            return error_response(404, "Requested entity was not found.")
        data = {
            "id": thread_id,
            "historyId": str(max(m.history_id for m in members)),
            "messages": [self.render(m, request) for m in members],
        }
        return json_response(200, data)

    def _history_list(self, request: Request, box: Mailbox) -> Response:
        start = int(request.arg("startHistoryId") or 0)
        if start < box.oldest_history_id:
            return error_response(404, "Requested entity was not found.")
        types = set(request.query.get("historyTypes", []))
        label = request.arg("labelId")
        records = [
            self._history_record(box, entry)
            for entry in box.history
            if entry[0] > start
            and (not types or entry[1] in types)
            and entry[2] in box.messages
            and (label is None or label in box.messages[entry[2]].labels)
        ]
        page, token = page_of(records, request, default_size=100, max_size=500)
        data: dict[str, Any] = {"historyId": str(self.current_history_id(box.email))}
        if page:
            data["history"] = page
        if token:
            data["nextPageToken"] = token
        return json_response(200, data)

    def _history_record(self, box: Mailbox, entry: tuple) -> dict[str, Any]:
        history_id, kind, message_id, labels = entry
        stored = box.messages[message_id]
        brief = {"id": stored.id, "threadId": stored.thread_id}
        full = {**brief, "labelIds": list(stored.labels)}
        record: dict[str, Any] = {"id": str(history_id), "messages": [brief]}
        if kind == "messageAdded":
            record["messagesAdded"] = [{"message": full}]
        else:
            plural = "labelsAdded" if kind == "labelAdded" else "labelsRemoved"
            record[plural] = [{"message": full, "labelIds": labels}]
        return record

    # --- batch -----------------------------------------------------------------

    def _batch(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        envelope = BytesParser(policy=policy.compat32).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body
        )
        parts = envelope.get_payload() if envelope.is_multipart() else []
        if not parts:
            return error_response(400, "The batch request has no parts.")

        boundary = f"batch_{uuid.uuid4().hex}"
        chunks = []
        for part in parts:
            inner = inner_request(part.get_payload(decode=False))
            answer = self.handle(inner, outer_auth=request.headers.get("authorization"))
            chunks.append(batch_part(boundary, part.get("Content-ID", ""), answer))
        body = "".join(chunks) + f"--{boundary}--\r\n"
        return Response(200, body.encode(), f"multipart/mixed; boundary={boundary}")

    # --- threads ---------------------------------------------------------------

    def _thread_for(self, box: Mailbox, raw: bytes) -> str | None:
        # Gmail joins a message to the thread of a message it references.
        headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        wanted = " ".join(
            str(headers.get(name, "")) for name in ("In-Reply-To", "References")
        )
        for referenced in re.findall(r"<[^<>\s]+>", wanted):
            if referenced in box.threads_by_header:
                return box.threads_by_header[referenced]
        return None


def _handler_for(fake: FakeGmail) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve()

        def do_POST(self) -> None:  # noqa: N802
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                answer = fake.handle(request)
            except Exception as err:  # a bug in the fake must show, not hang up
                answer = error_response(500, f"fake Gmail failed: {err!r}")
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


# --- helpers -------------------------------------------------------------------


def _payload(raw: bytes, request: Request, *, full: bool) -> dict[str, Any]:
    msg = message_from_bytes(raw)
    if full:
        return payload_of(msg, "", True)
    headers = payload_of(msg, "", False)["headers"]
    wanted = {h.lower() for h in request.query.get("metadataHeaders", [])}
    if wanted:
        headers = [h for h in headers if h["name"].lower() in wanted]
    return {"mimeType": msg.get_content_type(), "headers": headers}


def _search_bounds(query: str) -> tuple[int | None, int | None]:
    """The epoch seconds of a search's after: and before: terms."""
    bounds: dict[str, int] = {}
    for word, value in re.findall(r"\b(after|before):(\S+)", query):
        if value.lstrip("-").isdigit():
            bounds[word] = int(value)
        else:
            day = datetime.strptime(value, "%Y/%m/%d").replace(tzinfo=SEARCH_ZONE)
            bounds[word] = int(day.timestamp())
    return bounds.get("after"), bounds.get("before")


# --- fixture -------------------------------------------------------------------


@pytest.fixture
def fake_gmail() -> Iterator[FakeGmail]:
    """A running fake Gmail server, stopped after the test."""
    fake = FakeGmail().start()
    yield fake
    fake.stop()
