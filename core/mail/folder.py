"""The local folder source: a folder of .eml files or a Maildir, read only.

A file is new until its message id is in processed_messages for the owner; file
names and their order mean nothing, so files dropped in are picked up on the next
tick whatever they are called. Nothing here ever writes into the folder.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import InvalidInput, MessageUnparseable
from core.mail.headers import normalise_id
from core.mail.parser import content_id, parse_message
from core.mail.processed import processed_ids
from core.mail.record import EmailRecord, FetchResult, ParseFailure
from core.mail.threading import assign_thread_keys
from core.models import TenantInfo
from core.settings import Settings

log = logging.getLogger(__name__)

MAILDIR_SUBDIRS = ("cur", "new")


@dataclass(frozen=True)
class _Parsed:
    record: EmailRecord | None
    failure: ParseFailure | None


# Parsing every file on every tick would dominate a tick; files are immutable in
# practice, so a parse is reused while the file's size and mtime stay the same.
# One entry per path, so a rewritten file replaces its old parse.
_cache: dict[str, tuple[int, int, _Parsed]] = {}
_cache_lock = threading.Lock()


def message_files(folder: Path) -> list[Path]:
    """The message files of a Maildir (cur/ and new/) or of a folder of .eml files."""
    if any((folder / sub).is_dir() for sub in MAILDIR_SUBDIRS):
        found = [
            path
            for sub in MAILDIR_SUBDIRS
            if (folder / sub).is_dir()
            for path in (folder / sub).iterdir()
            if path.is_file() and not path.name.startswith(".")
        ]
    else:
        found = [path for path in folder.rglob("*.eml") if path.is_file()]
    return sorted(found)


def read_file(path: Path) -> _Parsed:
    """Parse one file, from the cache when it has not changed."""
    stat = path.stat()
    version = (stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get(str(path))
    if cached is not None and cached[:2] == version:
        return cached[2]

    parsed = _parse_file(path, datetime.fromtimestamp(stat.st_mtime, UTC))
    with _cache_lock:
        _cache[str(path)] = (*version, parsed)
    return parsed


def _parse_file(path: Path, mtime: datetime) -> _Parsed:
    raw = path.read_bytes()
    try:
        record = parse_message(raw, source_id=path.name, fallback_date=mtime)
    except MessageUnparseable as err:
        return _Parsed(None, ParseFailure(id=content_id(raw), reason=str(err)))
    file_id = normalise_id(record.message_id) if record.message_id else content_id(raw)
    return _Parsed(replace(record, id=file_id), None)


class FolderSource:
    """New messages of one folder tenant, oldest first, at most `release_per_tick`."""

    def __init__(self, tenant: TenantInfo, *, settings: Settings) -> None:
        if not tenant.mailbox_path:
            raise InvalidInput(f"Tenant {tenant.user_id} has no mailbox folder set.")
        self.tenant = tenant
        self.settings = settings
        self.folder = Path(tenant.mailbox_path)

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        if not self.folder.is_dir():
            raise InvalidInput(f"Mailbox folder {self.folder} does not exist.")
        records, failures = self._read_all()
        done = processed_ids(
            owner=self.tenant.user_id,
            ids=[r.id for r in records] + [f.id for f in failures],
            settings=self.settings,
        )

        new = sorted((r for r in records if r.id not in done), key=_age)
        limit = self.tenant.release_per_tick
        released = new if limit is None else new[: max(limit, 0)]
        log.debug(
            "folder %s of %s: %d new, %d released",
            self.folder,
            self.tenant.user_id,
            len(new),
            len(released),
        )
        return FetchResult(
            messages=[self._mark_self(r) for r in released],
            failures=[f for f in failures if f.id not in done],
            next_cursor=dict(cursor),
            more=len(released) < len(new),
        )

    def _read_all(self) -> tuple[list[EmailRecord], list[ParseFailure]]:
        records: dict[str, EmailRecord] = {}
        failures: dict[str, ParseFailure] = {}
        for path in message_files(self.folder):
            try:
                parsed = read_file(path)
            except OSError as err:
                # Moved or unreadable since the listing: the next tick tries again.
                log.warning("cannot read %s for %s: %s", path, self.tenant.user_id, err)
                continue
            if parsed.record is not None:
                # The same message saved twice is one message.
                records.setdefault(parsed.record.id, parsed.record)
            elif parsed.failure is not None:
                failures.setdefault(parsed.failure.id, parsed.failure)
        # Thread keys need the whole folder: a reply joins its root's thread.
        return assign_thread_keys(records.values()), list(failures.values())

    def _mark_self(self, record: EmailRecord) -> EmailRecord:
        mine = record.from_address == self.tenant.email.strip().lower()
        return replace(record, from_self=mine) if mine else record


def _age(record: EmailRecord) -> tuple[datetime, str]:
    return record.date.astimezone(UTC), record.id
