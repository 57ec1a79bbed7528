"""`checks`: print the start-up checks that fail."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from core.checks import run_checks
from core.cli import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("checks", help="show start-up checks that need attention")
    add_json_flag(parser)
    parser.set_defaults(handler=_checks)


def _checks(args: argparse.Namespace) -> int:
    rows = [asdict(check) for check in run_checks()]
    if args.json:
        print_json(rows)
    elif rows:
        print_table(rows, ["id", "message", "hint"])
    else:
        print("All start-up checks pass.")
    return 0
