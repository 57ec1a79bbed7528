"""The chat-model path: a scripted model, and a tool-calling one parsed by LangChain."""

from __future__ import annotations

from core.agent import service
from core.agent.model_engine import MAX_ATTEMPTS, ModelEngine
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import (
    ScriptedChatModel,
    ToolCallingChatModel,
    add_tenant,
    record,
)

ADMIN = Viewer.admin()


def _engine(*script: object) -> tuple[ModelEngine, ScriptedChatModel]:
    model = ScriptedChatModel(script=list(script))
    return ModelEngine(model, retry_wait_max=0.01), model


def test_model_respond_stores_its_draft(agent_settings: Settings) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    engine, _model = _engine(
        {"action": "respond", "reason": "Carol asks for numbers", "draft": "Hi Carol!"}
    )

    outcome = service.process_email(
        tenant=olivia, email=record(id="m1"), settings=agent_settings, engine=engine
    )

    thread = service.get_thread(
        viewer=ADMIN, thread_id=outcome.thread_id, settings=agent_settings
    )
    assert outcome.triage == "respond"
    assert (thread.draft, thread.draft_to) == ("Hi Carol!", ["carol@partner.example"])
    assert thread.reason == "model: Carol asks for numbers"


def test_model_naming_a_rule_is_recorded(agent_settings: Settings) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    engine, _model = _engine(
        {"action": "ignore", "reason": "partner spam", "rule": "partners"}
    )

    outcome = service.process_email(
        tenant=olivia, email=record(id="m1"), settings=agent_settings, engine=engine
    )

    thread = service.get_thread(
        viewer=ADMIN, thread_id=outcome.thread_id, settings=agent_settings
    )
    assert (thread.status, thread.rule, thread.draft) == (
        "ignored",
        "rule:partners",
        None,
    )


def test_model_error_is_retried_then_recorded_and_run_goes_on(
    agent_settings: Settings,
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    outage = [TimeoutError("provider timed out")] * MAX_ATTEMPTS
    engine, model = _engine(*outage, {"action": "notify", "reason": "an update"})

    failed = service.process_email(
        tenant=olivia, email=record(id="m1"), settings=agent_settings, engine=engine
    )
    following = service.process_email(
        tenant=olivia,
        email=record(id="m2", thread_key="t-2"),
        settings=agent_settings,
        engine=engine,
    )

    thread = service.get_thread(
        viewer=ADMIN, thread_id=failed.thread_id, settings=agent_settings
    )
    assert model.calls == MAX_ATTEMPTS + 1
    assert (failed.triage, thread.status) == ("failed", "failed")
    assert thread.reason == "model-error: model error: TimeoutError: provider timed out"
    assert following.triage == "notify"


def test_model_recovers_within_retries(agent_settings: Settings) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    engine, model = _engine(
        ConnectionError("reset"), {"action": "notify", "reason": "an update"}
    )

    outcome = service.process_email(
        tenant=olivia, email=record(id="m1"), settings=agent_settings, engine=engine
    )

    assert (outcome.triage, model.calls) == ("notify", 2)


PREFS = {
    "name": "Olivia Owner",
    "background": "I run finance at Acme; Carol Jones is our outside auditor.",
    "response_style": "formal, signed with my full name",
    "rules": [{"name": "auditors", "action": "respond", "domain": "partner.example"}],
}


def test_provider_tool_call_is_parsed_by_langchain_into_a_decision(
    agent_settings: Settings,
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example", prefs=PREFS)
    answer = {
        "action": "respond",
        "reason": "Carol asks for the quarterly numbers",
        "rule": "auditors",
        "draft": "Dear Carol,\n\nThe numbers follow on Friday.\n\nOlivia Owner",
    }
    model = ToolCallingChatModel(answers=[answer])

    outcome = service.process_email(
        tenant=olivia,
        email=record(id="m1"),
        settings=agent_settings,
        engine=ModelEngine(model, retry_wait_max=0.01),
    )

    thread = service.get_thread(
        viewer=ADMIN, thread_id=outcome.thread_id, settings=agent_settings
    )
    assert (outcome.triage, thread.status, thread.rule) == (
        "respond",
        "awaiting_review",
        "rule:auditors",
    )
    assert (thread.draft, thread.draft_to) == (
        answer["draft"],
        ["carol@partner.example"],
    )
    assert thread.reason == "rule:auditors: Carol asks for the quarterly numbers"


def test_prompt_the_model_receives_carries_the_tenants_preferences(
    agent_settings: Settings,
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example", prefs=PREFS)
    model = ToolCallingChatModel(answers=[{"action": "notify", "reason": "an update"}])

    service.process_email(
        tenant=olivia,
        email=record(id="m1"),
        settings=agent_settings,
        engine=ModelEngine(model, retry_wait_max=0.01),
    )

    [prompt] = model.received
    system, human = prompt
    assert (system.type, human.type) == ("system", "human")
    assert "You triage email for Olivia Owner <olivia@acme.example>." in system.content
    assert PREFS["background"] in system.content
    assert "Reply style: formal, signed with my full name." in system.content
    assert "- auditors: respond when domain in ['partner.example']" in system.content
    assert "Subject: Quarterly numbers" in human.content
    assert "Can you send me the quarterly numbers by Friday?" in human.content


def test_provider_answer_outside_the_schema_is_retried_then_failed(
    agent_settings: Settings,
) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")
    forward = {"action": "forward", "reason": "Bob handles numbers"}
    model = ToolCallingChatModel(answers=[forward] * MAX_ATTEMPTS)

    outcome = service.process_email(
        tenant=olivia,
        email=record(id="m1"),
        settings=agent_settings,
        engine=ModelEngine(model, retry_wait_max=0.01),
    )

    thread = service.get_thread(
        viewer=ADMIN, thread_id=outcome.thread_id, settings=agent_settings
    )
    assert len(model.received) == MAX_ATTEMPTS
    assert (outcome.triage, thread.status, thread.draft) == ("failed", "failed", None)
    assert thread.reason.startswith("model-error: model error: ValidationError")
