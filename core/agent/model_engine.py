"""The chat-model engine: any LangChain chat model, asked for structured output.

A model that keeps failing must not stop a tenant's run: after the retries the
decision is a `failed` triage naming the error, and the next email goes on.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field
from tenacity import Retrying, stop_after_attempt, wait_exponential

from core.agent.decision import Decision, TenantView, latest

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_BODY_CHARS = 6000


class ModelTriage(BaseModel):
    """What the model must answer: an action, a reason, and a draft to respond."""

    action: Literal["ignore", "notify", "respond"]
    reason: str = Field(description="one sentence: why this action")
    rule: str | None = Field(
        default=None, description="the name of the tenant rule that applies, if any"
    )
    draft: str | None = Field(
        default=None, description="the reply to send, only when action is respond"
    )


class ModelEngine:
    def __init__(self, model: BaseChatModel, *, retry_wait_max: float = 8.0) -> None:
        self.name = "model"
        self.model = model
        self._structured = model.with_structured_output(ModelTriage)
        self._retry_wait_max = retry_wait_max

    def triage(
        self, *, tenant: TenantView, conversation: list[dict[str, Any]]
    ) -> Decision:
        messages = build_prompt(tenant, conversation)
        try:
            answer = self._ask(messages)
        except Exception as err:  # any provider error: record it and go on
            log.warning(
                "model triage failed for %s after retries: %s", tenant.user_id, err
            )
            return Decision(
                triage="failed",
                rule="model-error",
                reason=f"model error: {type(err).__name__}: {str(err)[:300]}",
            )
        return _to_decision(answer, latest(conversation))

    def _ask(self, messages: list[tuple[str, str]]) -> ModelTriage:
        retrying = Retrying(
            stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=wait_exponential(
                multiplier=self._retry_wait_max / 8, max=self._retry_wait_max
            ),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                answer = self._structured.invoke(messages)
        return ModelTriage.model_validate(answer, from_attributes=True)


def _to_decision(answer: ModelTriage, email: dict[str, Any]) -> Decision:
    responding = answer.action == "respond"
    return Decision(
        triage=answer.action,
        rule=f"rule:{answer.rule}" if answer.rule else "model",
        reason=answer.reason,
        draft=answer.draft if responding else None,
        draft_to=[email["from_address"]] if responding else [],
    )


def build_prompt(
    tenant: TenantView, conversation: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    prefs = tenant.prefs
    rules = "\n".join(
        f"- {rule.name}: {rule.action} when "
        + ", ".join(
            f"{key} in {value}"
            for key, value in rule.model_dump(exclude={"name", "action"}).items()
            if value
        )
        for rule in prefs.rules
    )
    system = (
        f"You triage email for {prefs.name} <{tenant.email}>. {prefs.background}\n"
        "Decide: ignore (automated or irrelevant), notify (worth reading), or "
        "respond (asks them something; write the reply in their name).\n"
        f"Their rules, first match wins:\n{rules or '- none'}\n"
        f"Reply style: {prefs.response_style}."
    )
    thread = "\n\n".join(_render(email) for email in conversation)
    return [("system", system), ("human", thread)]


def _render(email: dict[str, Any]) -> str:
    return (
        f"From: {email.get('from_name', '')} <{email['from_address']}>\n"
        f"To: {', '.join(email.get('to', []))}\n"
        f"Subject: {email['subject']}\n\n{email['body'][:MAX_BODY_CHARS]}"
    )
