"""Preferences validation and the rules engine's order of decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agent import service
from core.agent.decision import Decision, TenantView
from core.agent.dryrun import read_email
from core.agent.engines import engine_for
from core.agent.prefs import default_prefs, validate_prefs
from core.agent.rules_engine import RulesEngine
from core.errors import ConfigError, InvalidInput
from core.settings import Settings, load_settings
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record

OLIVIA = "olivia@acme.example"
KAY = "kay.mann@enron.com"
# Rahil Jafry to Kay Mann, "RE: Cogentrix": how Enron will market the Kenansville
# plant's power at a "bogie price". Nothing in it asks Kay anything: notify.
COGENTRIX = "enron/mann-k/282.eml"


def _decide(rules: list[dict] | None = None, **email: object) -> Decision:
    return _triage(record(id="m1", **email).as_dict(), rules)


def _triage(
    email: dict,
    rules: list[dict] | None,
    *,
    user_id: str = "olivia",
    address: str = OLIVIA,
    name: str = "Olivia Owner",
) -> Decision:
    prefs = validate_prefs({"name": name, "rules": rules or []})
    tenant = TenantView(user_id=user_id, email=address, prefs=prefs)
    return RulesEngine().triage(tenant=tenant, conversation=[email])


def _kay_decides(mail_data: Path, rules: list[dict]) -> Decision:
    """The rules engine's decision on the real Cogentrix mail, as Kay's assistant."""
    email = read_email(mail_data / COGENTRIX, tenant_email=KAY).as_dict()
    return _triage(email, rules, user_id="mann-k", address=KAY, name="Kay Mann")


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


def test_real_mail_without_tenant_rules_gets_the_built_in_triage(
    mail_data: Path,
) -> None:
    decision = _kay_decides(mail_data, [])

    assert (decision.triage, decision.rule) == ("notify", "default")


def test_subject_keyword_rule_fires_on_real_mail(mail_data: Path) -> None:
    rules = [
        {"name": "cogentrix", "action": "respond", "subject_keywords": "COGENTRIX"}
    ]

    decision = _kay_decides(mail_data, rules)

    assert (decision.triage, decision.rule) == ("respond", "rule:cogentrix")
    assert decision.reason == "tenant rule 'cogentrix' matched"
    assert decision.draft_to == ["rahil.jafry@enron.com"]
    assert decision.draft.startswith("Hi Rahil,")
    assert decision.draft.endswith("Best,\nKay Mann")


def test_body_keyword_rule_fires_on_real_mail(mail_data: Path) -> None:
    rules = [
        {"name": "plant", "action": "ignore", "body_keywords": ["Kenansville plant"]}
    ]

    decision = _kay_decides(mail_data, rules)

    assert (decision.triage, decision.rule, decision.draft) == (
        "ignore",
        "rule:plant",
        None,
    )
    assert decision.reason == "tenant rule 'plant' matched"


KEYWORD_RULES = {
    "by-subject": {
        "name": "by-subject",
        "action": "respond",
        "subject_keywords": ["invoice", "cogentrix"],
    },
    "by-body": {"name": "by-body", "action": "ignore", "body_keywords": "bogie price"},
}


@pytest.mark.parametrize(
    ("order", "triage"),
    [(["by-subject", "by-body"], "respond"), (["by-body", "by-subject"], "ignore")],
)
def test_first_matching_keyword_rule_wins_on_real_mail(
    mail_data: Path, order: list[str], triage: str
) -> None:
    missing = {"name": "quallaby", "action": "notify", "body_keywords": "Quallaby"}
    rules = [missing] + [KEYWORD_RULES[name] for name in order]

    decision = _kay_decides(mail_data, rules)

    assert (decision.triage, decision.rule) == (triage, f"rule:{order[0]}")


def test_tenant_keyword_rule_decides_the_stored_thread(
    agent_sqlite: Settings, mail_data: Path
) -> None:
    prefs = {"name": "Kay Mann", "rules": [KEYWORD_RULES["by-subject"]]}
    kay = add_tenant(agent_sqlite, "mann-k", KAY, prefs=prefs)
    email = read_email(mail_data / COGENTRIX, tenant_email=KAY)

    outcome = service.process_email(tenant=kay, email=email, settings=agent_sqlite)

    thread = service.get_thread(
        viewer=Viewer.tenant("mann-k"),
        thread_id=outcome.thread_id,
        settings=agent_sqlite,
    )
    assert (outcome.triage, thread.status, thread.rule) == (
        "respond",
        "awaiting_review",
        "rule:by-subject",
    )
    assert thread.reason == "rule:by-subject: tenant rule 'by-subject' matched"
    assert thread.draft.endswith("Best,\nKay Mann")


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


@pytest.mark.parametrize(
    ("prefs", "message"),
    [
        (
            {"name": "Ann", "rulse": [{"name": "r", "action": "ignore"}]},
            "Preferences refused, rulse: unknown key; the keys are name, background, "
            "rules, response_style, timezone.",
        ),
        (
            {
                "name": "Ann",
                "rules": [{"name": "r", "action": "ignore", "keywords": ["x"]}],
            },
            "Preferences refused, rules.0.keywords: unknown key; the keys are name, "
            "action, sender, domain, subject_keywords, body_keywords.",
        ),
    ],
)
def test_a_misspelt_key_is_refused_instead_of_dropped(
    prefs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_prefs(prefs)

    assert str(caught.value) == message
