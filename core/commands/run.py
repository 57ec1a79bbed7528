"""`run --user-id ID`: one tick of the tenant now, in the foreground."""

from __future__ import annotations

import argparse

from core import jobs, views
from core.cli import EXIT_FAILURE, EXIT_OK, add_json_flag
from core.commands.shared import ready_settings, show

FAILED = ("error", "timeout")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run one tick of a tenant now and wait for it")
    parser.add_argument("--user-id", required=True)
    add_json_flag(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    run = jobs.run_now(
        user_id=views.known_user_id(args.user_id),
        actor="cli",
        settings=ready_settings(),
    )

    show(views.run_view(run), as_json=args.json)
    return EXIT_FAILURE if run.status in FAILED else EXIT_OK
