"""An email record read back from JSON: what `parse --json` prints, or the record's
own `as_dict()` form, as the triage dry run accepts it.

Every problem is named in one sentence (missing or unknown keys, values of the wrong
kind), since the file is hand-made or hand-edited more often than not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import InvalidInput
from core.mail.record import Attachment, EmailRecord


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _text_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _time(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _attachments(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, dict)
        and set(item) == {"name", "size"}
        and _text_or_null(item["name"])
        and type(item["size"]) is int
        for item in value
    )


def _headers(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(item, str) for item in value.values()
    )


Check = tuple[Callable[[Any], bool], str]
TEXT: Check = (_text, "text")
# The keys of one row of `parse --json`, each with what its value must be.
PARSE_KEYS: dict[str, Check] = {
    "file": TEXT,
    "message_id": TEXT,
    "thread_key": TEXT,
    "subject": TEXT,
    "from_name": TEXT,
    "from_address": TEXT,
    "to": (_texts, "a list of addresses"),
    "cc": (_texts, "a list of addresses"),
    "date": (_time, "an ISO 8601 time"),
    "body": TEXT,
    "attachments": (_attachments, "a list of {name, size} objects"),
    "in_reply_to": (_text_or_null, "text or null"),
    "references": (_texts, "a list of message ids"),
    "error": (_text_or_null, "text or null"),
}
# The rest of `EmailRecord.as_dict()`, the form emails take in the graph's state.
RECORD_KEYS: dict[str, Check] = {
    "id": TEXT,
    "labels": (_texts, "a list of labels"),
    "automation_headers": (_headers, "an object of header texts"),
    "from_self": (lambda value: isinstance(value, bool), "true or false"),
}
KEYS = PARSE_KEYS | RECORD_KEYS
REQUIRED = ("date", "from_address")


def record_from_json(raw: bytes, *, path: Path, tenant_email: str) -> EmailRecord:
    """The one email record in a .json file's bytes; InvalidInput says what is wrong."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidInput(f"{path} is not an email record: it is not JSON.") from None

    data = _one_object(data, path)
    if data.get("error"):
        raise InvalidInput(
            f"{path} is not an email record: parse could not read "
            f"{data.get('file') or 'its file'} ({data['error']})."
        )
    problems = _problems(data)
    if problems:
        raise InvalidInput(f"{path} is not an email record: {'; '.join(problems)}.")
    return _record(data, path=path, tenant_email=tenant_email)


def _one_object(data: Any, path: Path) -> dict[str, Any]:
    if isinstance(data, list):
        if len(data) != 1:
            raise InvalidInput(
                f"{path} holds {len(data)} records; triage takes one, as an object "
                "or an array of one."
            )
        data = data[0]
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{path} is not an email record: it holds {_kind(data)}, not an object "
            "with the keys of parse --json."
        )
    return data


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return "a number"
    return "text" if isinstance(value, str) else "an array"


def _problems(data: dict[str, Any]) -> list[str]:
    missing = [name for name in REQUIRED if name not in data]
    unknown = sorted(name for name in data if name not in KEYS)
    return [
        *([_keys("missing", missing)] if missing else []),
        *([_keys("unknown", unknown)] if unknown else []),
        *_wrong_values(data),
    ]


def _keys(what: str, names: list[str]) -> str:
    return f"{what} key{'s' if len(names) > 1 else ''} {', '.join(names)}"


def _wrong_values(data: dict[str, Any]) -> list[str]:
    found = []
    for name, (fits, expected) in KEYS.items():
        if name not in data or (data[name] is None and name not in REQUIRED):
            continue
        if not fits(data[name]):
            found.append(f"{name} must be {expected}")
    return found


def _record(data: dict[str, Any], *, path: Path, tenant_email: str) -> EmailRecord:
    # Optional keys may be absent or null (in_reply_to is null in most parse rows).
    def get(name: str, default: Any) -> Any:
        value = data.get(name)
        return default if value is None else value

    date = datetime.fromisoformat(data["date"])
    message_id = get("message_id", "")
    record_id = get("id", "") or message_id or str(path)
    from_address = data["from_address"]
    return EmailRecord(
        id=record_id,
        thread_key=get("thread_key", "") or record_id,
        message_id=message_id,
        subject=get("subject", ""),
        from_name=get("from_name", ""),
        from_address=from_address,
        # A time without an offset is read as UTC, as the parser reads "-0000".
        date=date if date.tzinfo else date.replace(tzinfo=UTC),
        body=get("body", ""),
        to=tuple(get("to", ())),
        cc=tuple(get("cc", ())),
        in_reply_to=data.get("in_reply_to"),
        references=tuple(get("references", ())),
        attachments=tuple(
            Attachment(name=a["name"] or "", size=a["size"])
            for a in get("attachments", ())
        ),
        labels=tuple(get("labels", ())),
        automation_headers=dict(get("automation_headers", {})),
        from_self=get("from_self", False)
        or from_address.casefold() == tenant_email.casefold(),
    )
