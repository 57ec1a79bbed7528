"""`gen-key`: print a new Fernet key for SECRET_KEY."""

from __future__ import annotations

import argparse

from core import crypto


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("gen-key", help="print a new key for SECRET_KEY")
    parser.set_defaults(handler=_gen_key)


def _gen_key(args: argparse.Namespace) -> int:
    print(crypto.new_key())
    return 0
