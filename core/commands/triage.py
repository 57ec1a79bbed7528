"""`triage FILE --user-id ID`: what the assistant would decide, storing nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli import add_json_flag, print_json
from core.settings import get_settings

DESCRIPTION = """\
Dry-run the assistant on one message under a tenant's preferences; nothing is stored.

FILE is an .eml message, or a .json file holding one email record as
`python -m core parse FILE --json` prints it: that array of one object, or the
object alone. Its keys are file, message_id, thread_key, subject, from_name,
from_address, to, cc, date, body, attachments, in_reply_to, references and error.
Only from_address and date (ISO 8601; read as UTC without an offset) are required,
and error must be null. An email as the assistant keeps it in a thread's state,
which adds id, labels, automation_headers and from_self, is read too. Any other key
is refused.

parse --json leaves out List-Unsubscribe, Precedence and the other headers that
mark automated mail: to try the rules on those, triage the .eml itself.
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "triage",
        help="dry-run the assistant on one message (stores nothing)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "file",
        metavar="FILE",
        type=Path,
        help="an .eml file, or a .json email record (see above)",
    )
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
