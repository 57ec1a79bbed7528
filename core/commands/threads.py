"""`threads list`, `draft approve|reject` and `notify ack`: review from scripts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core import tenants, views
from core.cli import add_json_flag, print_json, print_table
from core.commands.shared import print_record, ready_settings
from core.errors import InvalidInput
from core.viewer import Viewer

# The command line is an operator's tool: it sees every tenant's threads.
OPERATOR = Viewer.admin(email="cli")
COLUMNS = ("thread_id", "status", "triage", "sender", "subject", "updated_at")
SHOWN = ("thread_id", "owner", "status", "triage", "subject", "sender", "draft")


def register(sub: argparse._SubParsersAction) -> None:
    threads = sub.add_parser("threads", help="a tenant's email threads")
    actions = threads.add_subparsers(dest="threads_command", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="newest first")
    listing.add_argument("--user-id", required=True)
    listing.add_argument("--status", help="only threads with this status")
    listing.add_argument("--limit", type=int, default=50)
    add_json_flag(listing)
    listing.set_defaults(handler=_list)

    draft = sub.add_parser("draft", help="review a drafted reply")
    choices = draft.add_subparsers(dest="draft_command", metavar="ACTION")
    choices.required = True
    approve = choices.add_parser("approve", help="send the draft (or --text-file)")
    approve.add_argument("--text-file", type=Path, help="send this text instead")
    approve.set_defaults(handler=_approve)
    reject = choices.add_parser("reject", help="close the thread, send nothing")
    reject.set_defaults(handler=_reject)

    notify = sub.add_parser("notify", help="notifications")
    notes = notify.add_subparsers(dest="notify_command", metavar="ACTION")
    notes.required = True
    ack = notes.add_parser("ack", help="acknowledge a notification")
    ack.set_defaults(handler=_ack)

    for action in (approve, reject, ack):
        action.add_argument("--thread-id", required=True)
        add_json_flag(action)


def _list(args: argparse.Namespace) -> int:
    # Imported here: the assistant's libraries are slow to load for other commands.
    from core.agent.service import list_threads

    settings = ready_settings()
    tenants.get_tenant(user_id=views.known_user_id(args.user_id), settings=settings)
    found = list_threads(
        viewer=OPERATOR,
        user_id=args.user_id,
        status=args.status,
        limit=args.limit,
        settings=settings,
    )
    rows = [thread.model_dump(mode="json") for thread in found]
    if args.json:
        print_json(rows)
    elif rows:
        print_table(rows, COLUMNS)
    else:
        print(f"No threads for {args.user_id}.")
    return 0


def _approve(args: argparse.Namespace) -> int:
    from core.agent.service import approve_draft

    text = _read_text(args.text_file) if args.text_file else None
    thread = approve_draft(
        viewer=OPERATOR, thread_id=args.thread_id, text=text, settings=ready_settings()
    )
    _print_thread(thread, as_json=args.json)
    return 0


def _reject(args: argparse.Namespace) -> int:
    from core.agent.service import reject_draft

    thread = reject_draft(
        viewer=OPERATOR, thread_id=args.thread_id, settings=ready_settings()
    )
    _print_thread(thread, as_json=args.json)
    return 0


def _ack(args: argparse.Namespace) -> int:
    from core.agent.service import acknowledge

    thread = acknowledge(
        viewer=OPERATOR, thread_id=args.thread_id, settings=ready_settings()
    )
    _print_thread(thread, as_json=args.json)
    return 0


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"Cannot read {path}: {err.strerror or err}.") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text.") from None


def _print_thread(thread: Any, *, as_json: bool) -> None:
    # The conversation itself stays out of the command line; the console shows it.
    data = thread.model_dump(mode="json", exclude={"messages"})
    if as_json:
        print_json(data)
    else:
        print_record({name: data[name] for name in SHOWN})
