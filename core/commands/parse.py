"""`parse FILE...`: what mailcron reads from message files, and so why it acted."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.cli import EXIT_BAD_INPUT, EXIT_OK, add_json_flag, print_json
from core.errors import MessageUnparseable
from core.mail.parser import parse_message
from core.mail.record import EmailRecord
from core.mail.threading import assign_thread_keys

FIELDS = (
    "message_id",
    "thread_key",
    "subject",
    "from_name",
    "from_address",
    "to",
    "cc",
    "date",
    "body",
    "attachments",
    "in_reply_to",
    "references",
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("parse", help="show what mailcron reads from .eml files")
    parser.add_argument("files", nargs="+", metavar="FILE", type=Path)
    add_json_flag(parser)
    parser.set_defaults(handler=_parse)


def _parse(args: argparse.Namespace) -> int:
    results = [_read(path) for path in args.files]
    # Files given together thread together, as they would in one folder.
    records = assign_thread_keys(r for r in results if isinstance(r, EmailRecord))
    by_file = iter(records)
    rows = [
        _row(path, next(by_file) if isinstance(r, EmailRecord) else None, r)
        for path, r in zip(args.files, results, strict=True)
    ]

    if args.json:
        print_json(rows)
    else:
        for row in rows:
            _print_row(row)
    return EXIT_BAD_INPUT if any(row["error"] for row in rows) else EXIT_OK


def _read(path: Path) -> EmailRecord | str:
    try:
        raw = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as err:
        return f"cannot read {path}: {err.strerror or err}"
    try:
        return parse_message(raw, fallback_date=mtime)
    except MessageUnparseable as err:
        return str(err)


def _row(path: Path, record: EmailRecord | None, error: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"file": str(path)}
    if record is None:
        row.update(dict.fromkeys(FIELDS))
        row["error"] = error
        return row
    data = record.as_dict()
    row.update({name: data[name] for name in FIELDS})
    row["error"] = None
    return row


def _print_row(row: dict[str, Any]) -> None:
    print(f"== {row['file']}")
    if row["error"]:
        print(f"error: {row['error']}\n")
        return
    for name in FIELDS:
        if name == "body":
            continue
        value = row[name]
        if name == "attachments":
            value = ", ".join(
                f"{a['name'] or '(unnamed)'} ({a['size']} bytes)" for a in value
            )
        elif isinstance(value, list):
            value = ", ".join(value)
        print(f"{name + ':':14}{value if value not in (None, '') else '-'}")
    print("body:")
    print(row["body"] or "-")
    print()
