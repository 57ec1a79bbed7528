"""What an engine decides about a conversation, and what the graph is handed.

Emails travel through the graph as `EmailRecord.as_dict()` dicts, so the state
stays JSON and the same graph runs on a LangGraph server.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from core.agent.prefs import Preferences

Triage = Literal["ignore", "notify", "respond", "failed"]


class Decision(BaseModel):
    """A triage outcome. `rule` names what fired: a tenant rule, a header, a model."""

    triage: Triage
    rule: str
    reason: str
    draft: str | None = None
    draft_to: list[str] = []


class TenantView(BaseModel):
    """The tenant as the engines see it: address, name and preferences."""

    user_id: str
    email: str
    prefs: Preferences

    @property
    def name(self) -> str:
        return self.prefs.name


def latest(conversation: list[dict[str, Any]]) -> dict[str, Any]:
    """The message being triaged: the last one received."""
    return conversation[-1]
