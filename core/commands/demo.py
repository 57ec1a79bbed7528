"""`demo`: load demo tenants from mailbox folders, or remove them."""

from __future__ import annotations

import argparse
from pathlib import Path

from core import demo
from core.cli import add_json_flag, print_json, print_table
from core.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo", help="create one demo tenant per mailbox folder (or remove them)"
    )
    parser.add_argument(
        "--mailboxes",
        type=Path,
        help="folder with one sub-folder of .eml files or Maildir per person "
        "(default: the project's own demo mailboxes)",
    )
    parser.add_argument(
        "--drip", type=int, metavar="N", help="release N messages per tick per tenant"
    )
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing when the database already has tenants",
    )
    parser.add_argument(
        "--remove", action="store_true", help="delete every demo tenant and their data"
    )
    add_json_flag(parser)
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.remove:
        removed = demo.remove_demo(settings=settings)
        print_json({"removed": removed}) if args.json else print(
            f"Removed {removed} demo tenants."
        )
        return 0
    if args.if_empty and demo.has_tenants(settings=settings):
        print_json([]) if args.json else print(
            "Tenants exist already; demo not loaded."
        )
        return 0

    loaded = demo.load_demo(settings=settings, mailboxes=args.mailboxes, drip=args.drip)
    rows = [
        {
            "user_id": t.user_id,
            "email": t.email,
            "mailbox": t.mailbox_path,
            "drip": t.release_per_tick,
        }
        for t in loaded
    ]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["user_id", "email", "mailbox", "drip"])
    return 0
