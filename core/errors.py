"""The exception family: each error builds its own message and knows if it lasts.

`permanent` errors will fail again until a person acts (reconnect, fix a value);
`transient` ones are worth retrying. The scheduler and the CLI rely on that flag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class MailcronError(Exception):
    """Base class: `str(err)` is one sentence fit for a user."""

    permanent = True
    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(MailcronError):
    """A setting has a value mailcron cannot use."""

    kind = "config"

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {problem}")


class InvalidInput(MailcronError):
    """Input from a user (form, CLI flag, API body) was refused; nothing changed."""

    kind = "invalid_input"


class UnknownTenant(MailcronError):
    kind = "unknown_tenant"

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        super().__init__(f"No tenant with user id {user_id!r}.")


class Conflict(MailcronError):
    """The action cannot happen now because of another one (a run in progress)."""

    kind = "conflict"
    permanent = False


class ReauthRequired(MailcronError):
    """The tenant's mailbox grant is gone: pause and ask them to reconnect."""

    kind = "reauth_required"

    def __init__(self, user_id: str, detail: str = "the grant was revoked") -> None:
        self.user_id = user_id
        super().__init__(
            f"Mailbox access for {user_id} no longer works ({detail}); "
            "the tenant must reconnect Gmail."
        )


class NotConnected(ReauthRequired):
    """A Gmail tenant who never connected their mailbox: same remedy, plainer words."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        MailcronError.__init__(
            self,
            f"{user_id} has not connected Gmail yet; connect it on the console's "
            "Connect Gmail page, which also resumes their cron.",
        )


class TransientError(MailcronError):
    """A provider answered 429 or 5xx, or timed out: try again later."""

    kind = "transient"
    permanent = False


class QuotaExceeded(TransientError):
    kind = "quota"

    def __init__(self, user_id: str) -> None:
        super().__init__(
            f"Gmail quota exceeded for {user_id}; this tick is skipped and the next "
            "one tries again."
        )


class DecryptionFailed(MailcronError):
    kind = "decryption"

    def __init__(self, user_id: str) -> None:
        super().__init__(
            f"The stored token of {user_id} cannot be read with the current "
            "SECRET_KEY; add the old key to SECRET_KEY or reconnect the mailbox."
        )


class MessageUnparseable(MailcronError):
    kind = "unparseable"

    def __init__(self, message_id: str, reason: str) -> None:
        self.message_id = message_id
        super().__init__(f"Message {message_id} could not be read: {reason}")


def first_problem(
    errors: Sequence[Mapping[str, Any]],
) -> tuple[tuple[Any, ...], str, str]:
    """Where, of what kind and what the first of pydantic's errors is, as plain text:
    the location, the error type, and the message without pydantic's "Value error"."""
    first = errors[0] if errors else {}
    problem = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return tuple(first.get("loc") or ()), str(first.get("type", "")), problem
