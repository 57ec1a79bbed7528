"""Mail benchmark: parse throughput, and Gmail quota units per tick vs a naive client.

Run from the project root: `python bench/bench_mail.py [--smoke]`. Quota units are
counted through the fake Gmail server's request counts with Google's published
per-method costs; a batch costs the sum of its inner requests. The naive client
lists with a time query and then gets each message and its thread one by one.
Exits 1 when our client spends more than half the naive client's units.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from google.oauth2.credentials import Credentials  # noqa: E402

from core import crypto, db  # noqa: E402
from core.mail import source_for  # noqa: E402
from core.mail.gmail_client import build_service  # noqa: E402
from core.mail.parser import parse_message  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from tests.fakes.fake_gmail import FakeGmail  # noqa: E402
from tests.mail_support import (  # noqa: E402
    connect_tenant,
    gmail_settings,
    make_message,
    mark_processed,
)

# https://developers.google.com/gmail/api/reference/quota
UNIT_COST = {
    "messages.list": 5,
    "messages.get": 5,
    "history.list": 2,
    "getProfile": 1,
    "threads.get": 10,
}
MAIL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "mail"


def units(fake: FakeGmail) -> int:
    return sum(UNIT_COST.get(method, 0) * n for method, n in fake.counts.items())


def parse_throughput(files: list[Path]) -> float:
    blobs = [path.read_bytes() for path in files]
    started = time.perf_counter()
    for raw in blobs:
        parse_message(raw)
    return len(blobs) / (time.perf_counter() - started)


def deliver(fake: FakeGmail, email: str, count: int, tag: str, ahead: int = 0) -> None:
    # `ahead` seconds in the future: past the second the naive client last listed.
    now = datetime.now(UTC) + timedelta(seconds=ahead)
    for i in range(count):
        raw = make_message(subject=f"{tag} {i}", message_id=f"<{tag}-{i}@bench>")
        fake.add_message(email, raw, internal_date=now + timedelta(milliseconds=i))


def measured(fake: FakeGmail, tick: Callable[[], Any]) -> int:
    fake.reset_counts()
    tick()
    return units(fake)


class OurClient:
    def __init__(self, fake: FakeGmail, settings: Settings) -> None:
        self.settings = settings
        self.tenant, _ = connect_tenant(fake, settings, user_id="ours", email="o@b.x")
        self.cursor: dict[str, Any] = {}

    def tick(self) -> None:
        result = source_for(self.tenant, settings=self.settings).fetch(self.cursor)
        ids = [m.id for m in result.messages]
        mark_processed(self.settings, self.tenant.user_id, *ids)
        self.cursor = result.next_cursor


class NaiveClient:
    """Lists since its last tick, then gets each message and its thread."""

    def __init__(self, fake: FakeGmail, settings: Settings) -> None:
        access, _ = fake.add_account("naive@b.x")
        self.email = "naive@b.x"
        credentials = Credentials(token=access)
        self.service = build_service(credentials, settings=settings)
        self.since = datetime.now(UTC) - timedelta(hours=24)

    def tick(self) -> None:
        users = self.service.users()
        started = datetime.now(UTC)
        query = f"after:{int(self.since.timestamp())}"
        page = users.messages().list(userId="me", q=query, labelIds=["INBOX"]).execute()
        for ref in page.get("messages", []):
            users.messages().get(userId="me", id=ref["id"], format="full").execute()
            users.threads().get(userId="me", id=ref["threadId"]).execute()
        # Gmail's after: has second granularity; the naive client steps past it.
        self.since = started + timedelta(seconds=1)


def quota_figures(fake: FakeGmail, settings: Settings, new: int) -> dict[str, float]:
    ours, naive = OurClient(fake, settings), NaiveClient(fake, settings)
    figures: dict[str, float] = {}
    for name, client, email in (("ours", ours, "o@b.x"), ("naive", naive, "naive@b.x")):
        deliver(fake, email, 3, f"{name}-seed")
        client.tick()
        figures[f"{name}_idle"] = measured(fake, client.tick)
        deliver(fake, email, new, f"{name}-new", ahead=5)
        figures[f"{name}_per_message"] = measured(fake, client.tick) / new
    return figures


def bench_settings(tmp: Path, fake: FakeGmail) -> Settings:
    base = load_settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'bench.db'}",
        secret_key=crypto.new_key(),
    )
    db.upgrade(base)
    return gmail_settings(base, fake)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny, quick run")
    parser.add_argument("--mail-data", type=Path, default=MAIL_DATA, metavar="DIR")
    args = parser.parse_args(argv)

    files = sorted(args.mail_data.rglob("*.eml"))
    sample = files[:40] if args.smoke else files
    rate = parse_throughput(sample)
    print(f"parse throughput: {rate:,.0f} msgs/s over {len(sample)} messages")

    fake = FakeGmail().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = quota_figures(
                fake, bench_settings(Path(tmp), fake), 2 if args.smoke else 20
            )
    finally:
        fake.stop()
        db.dispose_engines()

    print(f"{'quota units':24}{'ours':>8}{'naive':>8}{'ratio':>8}")
    worst = 0.0
    for label, key in (("per idle tick", "idle"), ("per new message", "per_message")):
        ours, naive = figures[f"ours_{key}"], figures[f"naive_{key}"]
        worst = max(worst, ours / naive)
        print(f"{label:24}{ours:8.1f}{naive:8.1f}{ours / naive:8.2f}")
    print(f"worst ratio {worst:.2f} (must be at most 0.50)")
    return 0 if worst <= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
