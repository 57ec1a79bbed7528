"""`parse FILE...`: what mailcron reads from message files, and so why it acted."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.cli import EXIT_BAD_INPUT, EXIT_OK, add_json_flag, print_json
from core.errors import MessageUnparseable
from core.mail.parser import date_fallback_reason, parse_message
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


@dataclass(frozen=True)
class _Read:
    """One file as read: its record, or the sentence saying why there is none."""

    record: EmailRecord | None = None
    error: str | None = None
    # Why the date shown is the file's mtime rather than the message's own Date.
    date_note: str | None = None


def _parse(args: argparse.Namespace) -> int:
    reads = [_read(path) for path in args.files]
    # Files given together thread together, as they would in one folder.
    records = assign_thread_keys(r.record for r in reads if r.record is not None)
    by_file = iter(records)
    rows = [
        _row(path, next(by_file) if r.record is not None else None, r.error)
        for path, r in zip(args.files, reads, strict=True)
    ]

    if args.json:
        print_json(rows)
    else:
        for row, r in zip(rows, reads, strict=True):
            _print_row(row, date_note=r.date_note)

    errors = [r.error for r in reads if r.error]
    for error in errors:
        sys.stderr.write(f"error: {error}\n")
    return EXIT_BAD_INPUT if errors else EXIT_OK


def _read(path: Path) -> _Read:
    try:
        raw = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as err:
        return _Read(error=f"cannot read {path}: {err.strerror or err}")
    try:
        # The path as the source id, so that an error names the file given.
        record = parse_message(raw, source_id=str(path), fallback_date=mtime)
    except MessageUnparseable as err:
        return _Read(error=str(err))

    reason = date_fallback_reason(raw)
    return _Read(record=record, date_note=f"{reason}; file time" if reason else None)


def _row(path: Path, record: EmailRecord | None, error: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"file": str(path)}
    if record is None:
        row.update(dict.fromkeys(FIELDS))
        row["error"] = error
        return row
    data = record.as_dict()
    row.update({name: data[name] for name in FIELDS})
    row["error"] = None
    return row


def _print_row(row: dict[str, Any], *, date_note: str | None) -> None:
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
        elif name == "date" and date_note:
            value = f"{value} ({date_note})"
        print(f"{name + ':':14}{value if value not in (None, '') else '-'}")
    print("body:")
    print(row["body"] or "-")
    print()
