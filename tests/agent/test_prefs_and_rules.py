"""Preferences validation and the rules engine's order of decisions."""

from __future__ import annotations

import pytest

from core.agent.decision import TenantView
from core.agent.engines import engine_for
from core.agent.prefs import default_prefs, validate_prefs
from core.agent.rules_engine import RulesEngine
from core.errors import ConfigError, InvalidInput
from core.settings import load_settings
from tests.agent.kit import record

OLIVIA = "olivia@acme.example"


def _decide(rules: list[dict] | None = None, **email: object):
    prefs = validate_prefs({"name": "Olivia Owner", "rules": rules or []})
    tenant = TenantView(user_id="olivia", email=OLIVIA, prefs=prefs)
    return RulesEngine().triage(
        tenant=tenant, conversation=[record(id="m1", **email).as_dict()]
    )


def test_default_prefs_validate() -> None:
    prefs = validate_prefs(default_prefs("Olivia Owner"))

    assert (prefs.name, prefs.rules, prefs.timezone) == ("Olivia Owner", [], "UTC")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "O", "timezone": "Mars/Olympus"}, "unknown timezone"),
        (
            {"name": "O", "rules": [{"name": "x", "action": "shout", "sender": "a"}]},
            "action",
        ),
        (
            {"name": "O", "rules": [{"name": "x", "action": "ignore"}]},
            "matches nothing",
        ),
        ({"name": ""}, "name"),
    ],
)
def test_validate_prefs_refuses_in_one_sentence(data: dict, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_prefs(data)

    message = str(caught.value)
    assert fragment in message
    assert message.endswith(".") and "\n" not in message


def test_rule_accepts_a_single_string_matcher() -> None:
    prefs = validate_prefs(
        {
            "name": "O",
            "rules": [{"name": "x", "action": "ignore", "domain": "a.example"}],
        }
    )

    assert prefs.rules[0].domain == ["a.example"]


@pytest.mark.parametrize(
    ("headers", "sender", "rule"),
    [
        (
            {"list-unsubscribe": "<mailto:u@x>"},
            "news@x.example",
            "automated:list-unsubscribe",
        ),
        ({"list-id": "<team.x.example>"}, "bob@x.example", "automated:list-id"),
        (
            {"auto-submitted": "auto-replied"},
            "bob@x.example",
            "automated:auto-submitted",
        ),
        ({"precedence": "bulk"}, "bob@x.example", "automated:precedence"),
        ({}, "no-reply@x.example", "automated:no-reply-sender"),
    ],
)
def test_automated_mail_is_ignored_naming_the_sign(
    headers: dict, sender: str, rule: str
) -> None:
    decision = _decide(headers=headers, sender=sender)

    assert (decision.triage, decision.rule) == ("ignore", rule)


def test_tenant_rule_wins_over_automation() -> None:
    rules = [{"name": "bank", "action": "notify", "domain": "x.example"}]

    decision = _decide(rules, headers={"precedence": "bulk"}, sender="news@x.example")

    assert (decision.triage, decision.rule) == ("notify", "rule:bank")


def test_first_matching_rule_wins_and_all_matchers_must_match() -> None:
    rules = [
        {
            "name": "both",
            "action": "ignore",
            "domain": "x.example",
            "subject_keywords": "invoice",
        },
        {"name": "domain", "action": "respond", "domain": "x.example"},
    ]

    decision = _decide(rules, sender="carol@x.example", subject="Lunch?")

    assert (decision.triage, decision.rule) == ("respond", "rule:domain")
    assert decision.draft_to == ["carol@x.example"]


def test_question_in_quoted_text_only_is_notify() -> None:
    body = "Thanks, noted.\n\n-----Original Message-----\nCan you send it?"

    decision = _decide(body=body)

    assert (decision.triage, decision.rule) == ("notify", "default")


def test_question_to_many_people_is_notify() -> None:
    crowd = tuple(f"p{i}@acme.example" for i in range(5)) + (OLIVIA,)

    decision = _decide(to=crowd)

    assert decision.triage == "notify"


def test_formal_style_shapes_the_draft() -> None:
    prefs = validate_prefs({"name": "Olivia Owner", "response_style": "formal"})
    tenant = TenantView(user_id="olivia", email=OLIVIA, prefs=prefs)

    decision = RulesEngine().triage(
        tenant=tenant, conversation=[record(id="m1").as_dict()]
    )

    assert decision.draft.startswith("Dear Carol Jones,")
    assert "Kind regards,\nOlivia Owner" in decision.draft


def test_engine_for_unknown_provider_is_a_config_error(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path, llm_model="nosuchprovider:model-x")

    with pytest.raises(ConfigError, match="LLM_MODEL"):
        engine_for(settings)


def test_engine_for_rules_is_the_rules_engine(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path)

    assert engine_for(settings).name == "rules"


@pytest.mark.parametrize(
    ("model_name", "setting", "attribute", "timeout"),
    [
        ("openai:gpt-4o-mini", "openai_api_key", "openai_api_key", "request_timeout"),
        (
            "anthropic:claude-haiku-4-5",
            "anthropic_api_key",
            "anthropic_api_key",
            "default_request_timeout",
        ),
    ],
)
def test_engine_for_chat_model_gets_key_and_timeout_from_settings(
    tmp_path, model_name: str, setting: str, attribute: str, timeout: str
) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        llm_model=model_name,
        http_timeout_seconds=7,
        **{setting: "key-from-settings"},
    )

    engine = engine_for(settings)

    assert engine.name == "model"
    assert getattr(engine.model, attribute).get_secret_value() == "key-from-settings"
    assert getattr(engine.model, timeout) == 7
    assert engine.model.max_retries == 0
