"""`rotate-key`: re-encrypt every stored token with the newest SECRET_KEY."""

from __future__ import annotations

import argparse
import sys

from core.cli import EXIT_FAILURE, EXIT_OK, add_json_flag, print_json
from core.errors import DecryptionFailed
from core.key_rotation import rotate_key
from core.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "rotate-key",
        help="re-encrypt stored Gmail tokens with the first key in SECRET_KEY",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=_rotate)


def _rotate(args: argparse.Namespace) -> int:
    result = rotate_key(settings=get_settings())
    if args.json:
        print_json(
            {
                "rotated": result.rotated,
                "unreadable": result.unreadable,
                "pending_connects": result.pending_connects,
            }
        )
    else:
        print(f"{len(result.rotated)} Gmail tokens now use the newest key.")
    for user_id in result.unreadable:
        sys.stderr.write(f"error: {DecryptionFailed(user_id)}\n")
    return EXIT_FAILURE if result.unreadable else EXIT_OK
