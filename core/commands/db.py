"""`db upgrade` and `db current`: the schema."""

from __future__ import annotations

import argparse

from core import db
from core.cli import add_json_flag, print_json
from core.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database schema")
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION")
    actions.required = True

    upgrade = actions.add_parser(
        "upgrade", help="migrate the database to the newest schema"
    )
    add_json_flag(upgrade)
    upgrade.set_defaults(handler=_upgrade)

    current = actions.add_parser("current", help="show the schema revision")
    add_json_flag(current)
    current.set_defaults(handler=_current)


def _upgrade(args: argparse.Namespace) -> int:
    settings = get_settings()
    db.upgrade(settings)
    return _report(args)


def _current(args: argparse.Namespace) -> int:
    get_settings()
    return _report(args)


def _report(args: argparse.Namespace) -> int:
    revision, head = db.current_revision(), db.head_revision()
    if args.json:
        print_json({"revision": revision, "head": head, "at_head": revision == head})
    else:
        state = "up to date" if revision == head else f"behind (head is {head})"
        print(f"schema revision {revision or 'none'}: {state}")
    return 0
