"""`create-user-cron` and `cron status|pause|resume|delete|list`: tenants' schedules."""

from __future__ import annotations

import argparse

from core import crons, provisioning, views
from core.cli import add_json_flag, print_json, print_table
from core.commands.shared import ready_settings, show
from core.models import CRON_STATUSES
from core.viewer import Viewer

ACTOR = "cli"
COLUMNS = ("user_id", "status", "schedule", "timezone", "next_run", "tenant_status")
LAST_RUN_COLUMNS = ("last_run", "emails", "threads", "error")


def register(sub: argparse._SubParsersAction) -> None:
    create = sub.add_parser(
        "create-user-cron", help="create or update a tenant and their cron"
    )
    create.add_argument("--user-id", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--schedule", help="crontab expression (default: every minute)")
    create.add_argument("--timezone", help="IANA timezone (default: DEFAULT_TIMEZONE)")
    create.add_argument("--mailbox", metavar="DIR", help="read mail from this folder")
    add_json_flag(create)
    create.set_defaults(handler=_create)

    parser = sub.add_parser("cron", help="show and change tenants' crons")
    actions = parser.add_subparsers(dest="cron_command", metavar="ACTION")
    actions.required = True
    for name, handler, help_text in (
        ("status", _status, "the cron and its last run"),
        ("pause", _pause, "stop the cron until resumed"),
        ("resume", _resume, "start a paused cron again"),
        ("delete", _delete, "remove the cron (the tenant and history stay)"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--user-id", required=True)
        if name == "pause":
            action.add_argument("--reason", help="shown with the paused cron")
        add_json_flag(action)
        action.set_defaults(handler=handler)

    listing = actions.add_parser("list", help="every cron with its last run")
    listing.add_argument("--status", choices=CRON_STATUSES)
    add_json_flag(listing)
    listing.set_defaults(handler=_list)


def _create(args: argparse.Namespace) -> int:
    view = provisioning.provision_cron(
        user_id=args.user_id,
        email=args.email,
        actor=ACTOR,
        settings=ready_settings(),
        schedule=args.schedule,
        timezone=args.timezone,
        mailbox=args.mailbox,
    )
    show(view, as_json=args.json)
    return 0


def _status(args: argparse.Namespace) -> int:
    view = views.cron_status(
        user_id=args.user_id, viewer=Viewer.admin(), settings=ready_settings()
    )
    show(view, as_json=args.json)
    return 0


def _pause(args: argparse.Namespace) -> int:
    settings = ready_settings()
    crons.pause_cron(
        user_id=views.known_user_id(args.user_id),
        actor=ACTOR,
        reason=args.reason,
        settings=settings,
    )
    show(views.cron_of(user_id=args.user_id, settings=settings), as_json=args.json)
    return 0


def _resume(args: argparse.Namespace) -> int:
    settings = ready_settings()
    crons.resume_cron(
        user_id=views.known_user_id(args.user_id), actor=ACTOR, settings=settings
    )
    show(views.cron_of(user_id=args.user_id, settings=settings), as_json=args.json)
    return 0


def _delete(args: argparse.Namespace) -> int:
    crons.delete_cron(
        user_id=views.known_user_id(args.user_id),
        actor=ACTOR,
        settings=ready_settings(),
    )
    if args.json:
        print_json({"user_id": args.user_id, "deleted": True})
    else:
        print(f"Cron of {args.user_id} deleted; the tenant and their history stay.")
    return 0


def _list(args: argparse.Namespace) -> int:
    found = views.cron_statuses(
        viewer=Viewer.admin(), status=args.status, settings=ready_settings()
    )
    if args.json:
        print_json([view.model_dump(mode="json") for view in found])
    elif found:
        print_table([_row(view) for view in found], COLUMNS + LAST_RUN_COLUMNS)
    else:
        print("No crons.")
    return 0


def _row(view: views.CronStatusView) -> dict[str, object]:
    row = view.model_dump()
    last = view.last_run
    if last is not None:
        row.update(
            last_run=last.status,
            emails=last.emails_fetched,
            threads=last.threads_created,
            error=last.error,
        )
    return row
