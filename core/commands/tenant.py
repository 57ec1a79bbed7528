"""`tenant show|delete|set-prefs --user-id ID`: one tenant."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core import provisioning, tenants, views
from core.cli import add_json_flag, print_json
from core.commands.shared import print_record, ready_settings
from core.errors import InvalidInput
from core.models import TenantInfo

ACTOR = "cli"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("tenant", help="show, delete or configure one tenant")
    actions = parser.add_subparsers(dest="tenant_command", metavar="ACTION")
    actions.required = True

    shown = actions.add_parser("show", help="the tenant's settings and preferences")
    shown.set_defaults(handler=_show)
    deleted = actions.add_parser("delete", help="delete the tenant and all their data")
    deleted.set_defaults(handler=_delete)
    prefs = actions.add_parser("set-prefs", help="replace the assistant preferences")
    prefs.add_argument("--file", required=True, type=Path, help="a JSON object")
    prefs.set_defaults(handler=_set_prefs)
    for action in (shown, deleted, prefs):
        action.add_argument("--user-id", required=True)
        add_json_flag(action)


def _show(args: argparse.Namespace) -> int:
    tenant = tenants.get_tenant(
        user_id=views.known_user_id(args.user_id), settings=ready_settings()
    )
    _print_tenant(tenant, as_json=args.json)
    return 0


def _delete(args: argparse.Namespace) -> int:
    counts = tenants.delete_tenant(
        user_id=views.known_user_id(args.user_id),
        actor=ACTOR,
        settings=ready_settings(),
    )
    if args.json:
        print_json({"user_id": args.user_id, "deleted_rows": counts})
    else:
        print(f"Tenant {args.user_id} deleted with {sum(counts.values())} rows.")
    return 0


def _set_prefs(args: argparse.Namespace) -> int:
    settings = ready_settings()
    tenant = provisioning.set_prefs(
        user_id=args.user_id,
        prefs=_read_json(args.file),
        actor=ACTOR,
        settings=settings,
    )
    _print_tenant(tenant, as_json=args.json)
    return 0


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InvalidInput(f"Cannot read {path}: {err.strerror or err}.") from None
    except ValueError as err:
        raise InvalidInput(f"{path} is not JSON: {err}.") from None


def _print_tenant(tenant: TenantInfo, *, as_json: bool) -> None:
    # The cursor is the mail source's bookkeeping, not something to script against.
    data = tenant.model_dump(mode="json", exclude={"cursor"})
    if as_json:
        print_json(data)
        return
    prefs = data.pop("prefs")
    print_record(data)
    print("prefs:")
    print(json.dumps(prefs, indent=2, ensure_ascii=False))
