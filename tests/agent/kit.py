"""Helpers for the assistant's tests: tenants, records, a scripted chat model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils.function_calling import convert_to_openai_tool

from core import db
from core.agent.checkpoint import close_checkpointers
from core.agent.runtime import forget_graphs
from core.mail.record import EmailRecord
from core.models import TenantInfo, User
from core.settings import Settings


def restart() -> None:
    """What a process restart does to the assistant: no cached graph or saver."""
    forget_graphs()
    close_checkpointers()


def add_tenant(
    settings: Settings,
    user_id: str,
    email: str,
    *,
    name: str = "",
    prefs: dict[str, Any] | None = None,
    source: str = "folder",
) -> TenantInfo:
    user = User(
        user_id=user_id,
        email=email,
        display_name=name or user_id.title(),
        mail_source=source,
        prefs=prefs or {},
    )
    with db.session_scope(settings) as session:
        session.add(user)
        return TenantInfo.model_validate(user.model_dump())


def record(
    *,
    id: str,
    thread_key: str = "t-1",
    subject: str = "Quarterly numbers",
    sender: str = "carol@partner.example",
    sender_name: str = "Carol Jones",
    to: tuple[str, ...] = ("olivia@acme.example",),
    body: str = "Can you send me the quarterly numbers by Friday?",
    headers: dict[str, str] | None = None,
    from_self: bool = False,
) -> EmailRecord:
    return EmailRecord(
        id=id,
        thread_key=thread_key,
        message_id=f"<{id}@mail.example>",
        subject=subject,
        from_name=sender_name,
        from_address=sender,
        date=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        body=body,
        to=to,
        automation_headers=headers or {},
        from_self=from_self,
    )


class ScriptedChatModel(BaseChatModel):
    """Answers from a script: each item a structured answer or an exception to raise.

    `with_structured_output` returns the next scripted item, the way a provider's
    tool-calling model returns a parsed object. `calls` counts every attempt.
    """

    script: list[Any] = []
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage("ok"))])

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Runnable:
        def answer(messages: Any) -> Any:
            self.calls += 1
            item = self.script.pop(0)
            if isinstance(item, Exception):
                raise item
            return schema.model_validate(item)

        return RunnableLambda(answer)


class ToolCallingChatModel(BaseChatModel):
    """Answers the way a provider's tool-calling API does; LangChain does the parsing.

    `with_structured_output` is LangChain's own: it binds the schema as a tool, and
    each scripted answer comes back as the JSON arguments of a call to that tool,
    which LangChain's parser reads into the schema. `received` keeps every prompt.
    """

    answers: list[dict[str, Any]] = []
    received: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "tool-calling"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Runnable:
        return self.bind(
            tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(list(messages))
        call = {
            "id": f"call_{len(self.received)}",
            "type": "function",
            "function": {
                "name": kwargs["tools"][0]["function"]["name"],
                "arguments": json.dumps(self.answers.pop(0)),
            },
        }
        message = AIMessage(content="", additional_kwargs={"tool_calls": [call]})
        return ChatResult(generations=[ChatGeneration(message=message)])
