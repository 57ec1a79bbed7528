"""`backfill-owner-metadata`: owners for threads and checkpoints of old deployments."""

from __future__ import annotations

import argparse

from core.cli import add_json_flag, print_json
from core.commands.shared import print_record, ready_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "backfill-owner-metadata",
        help="set the owner of threads and checkpoints that have none",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would change, change nothing"
    )
    add_json_flag(parser)
    parser.set_defaults(handler=_backfill)


def _backfill(args: argparse.Namespace) -> int:
    # Imported here: the assistant's libraries are slow to load for other commands.
    from core.backfill import backfill_owner_metadata

    report = backfill_owner_metadata(settings=ready_settings(), dry_run=args.dry_run)
    if args.json:
        print_json(report.as_dict())
    else:
        print_record(report.as_dict())
    return 0
