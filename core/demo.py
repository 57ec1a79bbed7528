"""Demo tenants: one folder tenant per mailbox folder, on an every-minute cron.

`make run` loads the project's own invented mailboxes on an empty database, dripping
a few messages per tick so the console fills in over the first minutes.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core import crons, tenants
from core.agent.prefs import default_prefs
from core.errors import InvalidInput
from core.mail.folder import message_files, read_file
from core.models import DEFAULT_SCHEDULE, TenantInfo
from core.settings import Settings
from core.viewer import Viewer

log = logging.getLogger(__name__)

DEMO_MAILBOXES = Path(__file__).parent / "demo_mail"
ACTOR = "demo"
# Enough to see every tenant work each minute without a thousand-message backlog.
MAX_TENANTS = 50
# Rules most mailboxes have a use for, so the demo shows rules firing beside the
# built-in triage: calendar mail and reminders are worth a look, not a reply.
DEMO_RULES = [
    {
        "name": "calendar",
        "action": "notify",
        "subject_keywords": ["invitation:", "updated invitation", "canceled event"],
    },
    {"name": "reminders", "action": "notify", "subject_keywords": ["reminder:"]},
]


@dataclass(frozen=True)
class Mailbox:
    user_id: str
    email: str
    name: str
    path: Path


def find_mailboxes(root: Path) -> list[Mailbox]:
    """One mailbox per sub-folder holding messages; its owner is read from the mail."""
    if not root.is_dir():
        raise InvalidInput(f"Mailbox folder {root} does not exist.")
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = message_files(folder)
        if files:
            found.append(_mailbox(folder, files))
    if not found:
        raise InvalidInput(
            f"{root} has no sub-folders with .eml files or Maildirs; give a folder "
            "with one sub-folder per person."
        )
    return found[:MAX_TENANTS]


def _mailbox(folder: Path, files: list[Path]) -> Mailbox:
    # The owner is whoever the mail is mostly addressed to; their name comes from a
    # message they sent, when there is one.
    recipients: Counter[str] = Counter()
    names: dict[str, str] = {}
    for path in files:
        record = read_file(path).record
        if record is None:
            continue
        recipients.update(set(record.to))
        if record.from_name:
            names.setdefault(record.from_address, record.from_name)
    slug = re.sub(r"[^a-z0-9]+", "-", folder.name.casefold()).strip("-") or "tenant"
    email = recipients.most_common(1)[0][0] if recipients else f"{slug}@demo.example"
    return Mailbox(slug, email, names.get(email, folder.name), folder)


def load_demo(
    *,
    settings: Settings,
    mailboxes: Path | None = None,
    drip: int | None = None,
) -> list[TenantInfo]:
    """Create (or bring up to date) one demo tenant and cron per mailbox folder."""
    if drip is not None and drip < 1:
        raise InvalidInput("--drip must be a positive number of messages per tick.")
    loaded = []
    for box in find_mailboxes((mailboxes or DEMO_MAILBOXES).resolve()):
        loaded.append(_load_one(box, drip, settings))
    log.info("demo loaded: %d tenants, drip %s", len(loaded), drip or "off")
    return loaded


def _load_one(box: Mailbox, drip: int | None, settings: Settings) -> TenantInfo:
    prefs = default_prefs(box.name) | {
        "background": (
            f"{box.name} ({box.email}) reads this mailbox with mailcron's demo; "
            "replies are drafts for review, never sent on their own."
        ),
        "rules": DEMO_RULES,
        "response_style": "friendly and brief",
    }
    tenant = tenants.create_or_update_tenant(
        user_id=box.user_id,
        email=box.email,
        actor=ACTOR,
        display_name=box.name,
        mail_source="folder",
        mailbox_path=str(box.path),
        release_per_tick=drip,
        is_demo=True,
        prefs=prefs,
        settings=settings,
    )
    crons.create_or_update_cron(
        user_id=tenant.user_id,
        email=tenant.email,
        actor=ACTOR,
        schedule=DEFAULT_SCHEDULE,
        settings=settings,
    )
    return tenant


def demo_tenants(*, settings: Settings) -> list[TenantInfo]:
    everyone = tenants.list_tenants(
        viewer=Viewer.admin(), limit=10_000, settings=settings
    )
    return [tenant for tenant in everyone if tenant.is_demo]


def remove_demo(*, settings: Settings, actor: str = ACTOR) -> int:
    """Delete every demo tenant with all their data; returns how many."""
    removed = demo_tenants(settings=settings)
    for tenant in removed:
        tenants.delete_tenant(user_id=tenant.user_id, actor=actor, settings=settings)
    log.info("demo removed: %d tenants", len(removed))
    return len(removed)


def has_tenants(*, settings: Settings) -> bool:
    return bool(tenants.list_tenants(viewer=Viewer.admin(), limit=1, settings=settings))
