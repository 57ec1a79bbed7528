"""A tenant's assistant preferences: who they are, their rules, how they write.

They live in the `users.prefs` JSON column; every write goes through
`validate_prefs`, so the graph can trust what it reads.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import InvalidInput, first_problem
from core.timeutil import Timezone

Action = Literal["ignore", "notify", "respond"]


def _as_list(value: Any) -> Any:
    # A single string is the common case in hand-written prefs; accept it.
    if isinstance(value, str):
        return [value] if value.strip() else []
    return value


class Rule(BaseModel):
    """One tenant rule. Every matcher given must match; within one, any value."""

    # A misspelt key would otherwise vanish on save, and the rule with it.
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    action: Action
    sender: list[str] = []
    domain: list[str] = []
    subject_keywords: list[str] = []
    body_keywords: list[str] = []

    _lists = field_validator(
        "sender", "domain", "subject_keywords", "body_keywords", mode="before"
    )(_as_list)

    @model_validator(mode="after")
    def _needs_a_matcher(self) -> Rule:
        if not (self.sender or self.domain or self.subject_keywords):
            if not self.body_keywords:
                raise ValueError(
                    f"rule {self.name!r} matches nothing; give a sender, domain or "
                    "keywords"
                )
        return self


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    background: str = ""
    rules: list[Rule] = []
    response_style: str = "brief and friendly"
    timezone: Timezone = "UTC"

    @model_validator(mode="after")
    def _unique_rule_names(self) -> Preferences:
        names = [rule.name for rule in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique, since decisions name them")
        return self


def validate_prefs(data: dict[str, Any]) -> Preferences:
    """Preferences from a dict, or InvalidInput naming the first problem."""
    if not isinstance(data, dict):
        raise InvalidInput("Preferences must be a JSON object.")
    try:
        return Preferences.model_validate(data)
    except ValidationError as err:
        loc, kind, problem = first_problem(err.errors())
        where = ".".join(str(part) for part in loc)
        if kind == "extra_forbidden":
            model = Rule if len(loc) > 1 else Preferences
            problem = "unknown key; the keys are " + ", ".join(model.model_fields)
        prefix = f"{where}: " if where else ""
        raise InvalidInput(f"Preferences refused, {prefix}{problem}.") from None


def default_prefs(name: str) -> dict[str, Any]:
    """What a new tenant starts with: no rules, the built-in triage only."""
    return Preferences(name=name or "me").model_dump()
