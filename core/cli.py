"""`python -m core`: the command line. Each area registers its own subcommands.

Conventions for every command: `--json` prints machine-readable output on stdout,
otherwise a readable table; exit 0 when all is well, 2 for bad input or an unknown
tenant (one line on stderr), 1 for a failure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.errors import ConfigError, InvalidInput, MailcronError, UnknownTenant
from core.logconf import configure_logging
from core.runs import one_line

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2

# Modules under core/commands that add subcommands; each has register(subparsers).
COMMAND_MODULES = [
    "db",
    "keys",
    "rotate_key",
    "checks",
    "parse",
    "triage",
    "worker",
    "demo",
    "crons",
    "run",
    "tenant",
    "threads",
    "backfill",
]

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        # argparse prints usage plus the error; we keep to one line, exit 2.
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m core", description="mailcron command line")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"core.commands.{name}").register(sub)
    return parser


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    sys.stdout.write("\n")


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """A plain aligned table; empty values print as '-'."""
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [
        max([len(col)] + [len(line[i]) for line in cells])
        for i, col in enumerate(columns)
    ]
    print(
        "  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True))
    )
    for line in cells:
        print("  ".join(value.ljust(w) for value, w in zip(line, widths, strict=True)))


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return str(value).replace("\n", " ")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (ConfigError, InvalidInput, UnknownTenant) as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_BAD_INPUT
    except MailcronError as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_FAILURE
    except SQLAlchemyError as err:
        sys.stderr.write(f"error: the database cannot be used: {_db_problem(err)}\n")
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and nowhere to say it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


def _db_problem(err: SQLAlchemyError) -> str:
    # The driver's own first line ("Connection refused", "file is not a database"),
    # without SQLAlchemy's statement and background link.
    cause = getattr(err, "orig", None) or err
    return one_line(str(cause) or type(cause).__name__)
