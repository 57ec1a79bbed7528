"""Emails per second through the `rules` graph with the SQLite checkpointer.

Every Enron message of the shared mail is parsed and processed for its mailbox's
tenant, with every database write (checkpoint, threads row, processed message)
included. Target: at least 100 emails/s on two cores.

    python -m bench.bench_agent [--mail DIR] [--smoke] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from core import db
from core.agent import service
from core.agent.checkpoint import close_checkpointers

# Known limit: parses with the tests' stdlib reader until the mail parser lands.
from core.agent.dryrun import read_email
from core.agent.runtime import forget_graphs
from core.models import TenantInfo, User
from core.settings import Settings, load_settings

DEFAULT_MAIL = Path(__file__).resolve().parents[2] / "shared/data/mail"
TARGET_PER_SECOND = 100
SMOKE_PER_PERSON = 5


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    mailboxes = _mailboxes(
        args.mail / "enron", SMOKE_PER_PERSON if args.smoke else None
    )
    with tempfile.TemporaryDirectory() as folder:
        settings = _database(Path(folder))
        try:
            report = run(settings=settings, mailboxes=mailboxes)
        finally:
            forget_graphs()
            close_checkpointers()
            db.dispose_engines()
    _print(report, as_json=args.json)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mail", type=Path, default=DEFAULT_MAIL)
    parser.add_argument("--smoke", action="store_true", help="a few messages only")
    parser.add_argument("--json", action="store_true")
    return parser


def _mailboxes(root: Path, per_person: int | None) -> dict[str, list[Path]]:
    people = sorted(p for p in root.iterdir() if p.is_dir())
    return {p.name: sorted(p.glob("*.eml"))[:per_person] for p in people}


def _database(folder: Path) -> Settings:
    settings = load_settings(
        data_dir=folder, database_url=f"sqlite:///{folder / 'bench.db'}"
    )
    db.upgrade(settings)
    return settings


def run(*, settings: Settings, mailboxes: dict[str, list[Path]]) -> dict[str, Any]:
    tenants = {
        name: _tenant(settings, name, files) for name, files in mailboxes.items()
    }
    timings: list[float] = []
    triages: Counter[str] = Counter()

    started = time.perf_counter()
    for name, files in mailboxes.items():
        tenant = tenants[name]
        for path in files:
            begin = time.perf_counter()
            email = read_email(path, tenant_email=tenant.email)
            outcome = service.process_email(
                tenant=tenant, email=email, settings=settings
            )
            timings.append(time.perf_counter() - begin)
            triages[outcome.triage or "from_self"] += 1
    elapsed = time.perf_counter() - started

    return _summary(timings, elapsed, triages)


def _tenant(settings: Settings, name: str, files: list[Path]) -> TenantInfo:
    # The mailbox's owner is the address most of its mail was sent to.
    seen = Counter(
        address for path in files for address in read_email(path, tenant_email="").to
    )
    address = seen.most_common(1)[0][0] if seen else f"{name}@enron.example"
    user = User(user_id=name, email=address, display_name=name, mail_source="folder")
    with db.session_scope(settings) as session:
        session.add(user)
        return TenantInfo.model_validate(user.model_dump())


def _summary(
    timings: list[float], elapsed: float, triages: Counter[str]
) -> dict[str, Any]:
    ordered = sorted(timings)
    return {
        "emails": len(timings),
        "seconds": round(elapsed, 3),
        "emails_per_second": round(len(timings) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else 0.0,
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2)
        if ordered
        else 0.0,
        "target_per_second": TARGET_PER_SECOND,
        "triage": dict(triages),
    }


def _print(report: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report))
        return
    print(
        f"{report['emails']} emails in {report['seconds']} s: "
        f"{report['emails_per_second']} emails/s "
        f"(target {TARGET_PER_SECOND}); p50 {report['p50_ms']} ms, "
        f"p99 {report['p99_ms']} ms"
    )
    print(
        "triage: " + ", ".join(f"{k} {v}" for k, v in sorted(report["triage"].items()))
    )


if __name__ == "__main__":
    sys.exit(main())
