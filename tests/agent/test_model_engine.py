"""The chat-model path, with a scripted model that answers in structured output."""

from __future__ import annotations

from core.agent import service
from core.agent.model_engine import MAX_ATTEMPTS, ModelEngine
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import ScriptedChatModel, add_tenant, record

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
