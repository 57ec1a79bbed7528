"""Gmail's wire shapes for the fake server: JSON errors, message resources, batches.

Kept apart from the server so the shapes read on their own; the functions here are
pure (bytes and dicts in, bytes and dicts out).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATUS_NAMES = {
    400: ("Bad Request", "INVALID_ARGUMENT", "invalidArgument"),
    401: ("Unauthorized", "UNAUTHENTICATED", "authError"),
    403: ("Forbidden", "PERMISSION_DENIED", "forbidden"),
    404: ("Not Found", "NOT_FOUND", "notFound"),
    429: ("Too Many Requests", "RESOURCE_EXHAUSTED", "rateLimitExceeded"),
    500: ("Internal Server Error", "INTERNAL", "backendError"),
    503: ("Service Unavailable", "UNAVAILABLE", "backendError"),
}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> dict[str, Any]:
        return json.loads(self.body or b"{}")


def json_response(status: int, data: Any) -> Response:
    return Response(status, json.dumps(data).encode())


def error_response(status: int, message: str | None = None) -> Response:
    title, code, reason = STATUS_NAMES.get(status, ("Error", "UNKNOWN", "unknown"))
    text = message or title
    return json_response(
        status,
        {
            "error": {
                "code": status,
                "message": text,
                "errors": [{"message": text, "domain": "global", "reason": reason}],
                "status": code,
            }
        },
    )


def b64url(data: bytes, *, pad: bool) -> str:
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if pad else text.rstrip("=")


def inner_request(text: str) -> Request:
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.strip("\n").split("\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    url = urlsplit(target)
    return Request(method, url.path, parse_qs(url.query), headers, body.encode())


def batch_part(boundary: str, content_id: str, answer: Response) -> str:
    reason = STATUS_NAMES.get(answer.status, ("OK",))[0]
    if answer.status == 200:
        reason = "OK"
    response_id = content_id.strip("<>")
    return (
        f"--{boundary}\r\n"
        "Content-Type: application/http\r\n"
        f"Content-ID: <response-{response_id}>\r\n\r\n"
        f"HTTP/1.1 {answer.status} {reason}\r\n"
        f"Content-Type: {answer.content_type}\r\n"
        f"Content-Length: {len(answer.body)}\r\n\r\n"
        f"{answer.body.decode()}\r\n"
    )


def page_of(
    items: list[Any], request: Request, *, default_size: int, max_size: int
) -> tuple[list[Any], str | None]:
    size = min(int(request.arg("maxResults") or default_size), max_size)
    start = int(request.arg("pageToken") or 0)
    page = items[start : start + size]
    more = start + size < len(items)
    return page, str(start + size) if more else None


def time_bounds(query: str) -> tuple[int | None, int | None]:
    bounds: dict[str, int] = {}
    for word, value in re.findall(r"\b(after|before):(\S+)", query):
        bounds[word] = query_time(value)
    return bounds.get("after"), bounds.get("before")


# Gmail search names for the system labels a query may use with in:.
SEARCH_LABELS = {"drafts": "DRAFT", "draft": "DRAFT"}


def label_groups(query: str) -> list[set[str]]:
    """The query's in: terms: a message must carry a label of every group.

    A bare `in:x` is a group of one; `{in:x in:y}` is one group, Gmail's "any of".
    """
    groups = []
    for braced, single in re.findall(r"\{([^{}]*)\}|\bin:(\S+)", query):
        names = re.findall(r"\bin:([^\s{}]+)", braced) if braced else [single]
        if names:
            groups.append({SEARCH_LABELS.get(n.lower(), n.upper()) for n in names})
    return groups


def query_time(value: str) -> int:
    if value.lstrip("-").isdigit():
        return int(value)
    day = datetime.strptime(value, "%Y/%m/%d").replace(tzinfo=UTC)
    return int(day.timestamp())


def minimal_request() -> Request:
    return Request("GET", "", {"format": ["minimal"]}, {}, b"")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def header_date(raw: bytes) -> datetime | None:
    headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    try:
        parsed = parsedate_to_datetime(str(headers.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def message_id_of(raw: bytes) -> str | None:
    headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    found = re.findall(r"<[^<>\s]+>", str(headers.get("Message-ID", "")))
    return found[0] if found else None


def snippet_of(raw: bytes) -> str:
    msg = message_from_bytes(raw)
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            data = part.get_payload(decode=True) or b""
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
            return " ".join(text.split())[:200]
    return ""


def payload_of(part: Message, part_id: str, with_bodies: bool) -> dict[str, Any]:
    headers = [{"name": k, "value": str(v)} for k, v in part.items()]
    data: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": headers,
    }
    if not with_bodies:
        return data
    if part.is_multipart():
        children = part.get_payload()
        prefix = f"{part_id}." if part_id else ""
        data["body"] = {"size": 0}
        data["parts"] = [
            payload_of(child, f"{prefix}{i}", True) for i, child in enumerate(children)
        ]
        return data
    content = part.get_payload(decode=True) or b""
    if data["filename"]:
        data["body"] = {"attachmentId": f"ANGj{uuid.uuid4().hex}", "size": len(content)}
    else:
        data["body"] = {"size": len(content), "data": b64url(content, pad=False)}
    return data
