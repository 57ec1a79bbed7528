"""`triage FILE --user-id ID`: what the assistant would decide, storing nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli import add_json_flag, print_json
from core.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "triage", help="dry-run the assistant on one message (stores nothing)"
    )
    parser.add_argument("file", type=Path, help="an .eml file or a JSON email record")
    parser.add_argument("--user-id", required=True, help="whose preferences to use")
    add_json_flag(parser)
    parser.set_defaults(handler=_triage)


def _triage(args: argparse.Namespace) -> int:
    # Imported here: the graph's libraries are slow to load for the other commands.
    from core.agent.dryrun import dry_run_file

    decision = dry_run_file(
        path=args.file, user_id=args.user_id, settings=get_settings()
    )
    if args.json:
        print_json(decision.model_dump())
        return 0
    print(f"decision: {decision.triage}")
    print(f"rule:     {decision.rule}")
    print(f"reason:   {decision.reason}")
    if decision.draft:
        print(f"draft to: {', '.join(decision.draft_to)}")
        print()
        print(decision.draft)
    return 0
