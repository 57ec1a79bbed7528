"""The engines behind one interface: `rules` (default) or a LangChain chat model.

`LLM_MODEL=rules` needs nothing; any other value is an `init_chat_model` name such as
`openai:gpt-4o-mini`, with the API key from the settings passed explicitly.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from core.agent.decision import Decision, TenantView
from core.agent.model_engine import ModelEngine
from core.agent.rules_engine import RulesEngine
from core.errors import ConfigError
from core.settings import Settings

PROVIDER_KEYS = {"openai": "openai_api_key", "anthropic": "anthropic_api_key"}


class Engine(Protocol):
    name: str

    def triage(
        self, *, tenant: TenantView, conversation: list[dict[str, Any]]
    ) -> Decision: ...


_engines: dict[tuple[str, str], Engine] = {}
_lock = threading.Lock()


def engine_for(settings: Settings) -> Engine:
    """One engine per model name and process: chat clients hold connection pools."""
    key = (settings.llm_model, _api_key(settings))
    with _lock:
        if key not in _engines:
            _engines[key] = _build(settings)
        return _engines[key]


def _build(settings: Settings) -> Engine:
    if settings.llm_model == "rules":
        return RulesEngine()

    # Imported here: only tenants of a chat model pay for langchain's start-up.
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {}
    if _api_key(settings):
        kwargs["api_key"] = _api_key(settings)
    if settings.llm_model.partition(":")[0] in PROVIDER_KEYS:
        # The SDKs' own defaults wait ten minutes and retry on their own; a run
        # checks its time limit only between emails, and ModelEngine retries.
        kwargs["timeout"] = settings.http_timeout_seconds
        kwargs["max_retries"] = 0
    try:
        model = init_chat_model(settings.llm_model, **kwargs)
    except (ImportError, ValueError) as err:
        raise ConfigError("LLM_MODEL", str(err).splitlines()[0]) from None
    return ModelEngine(model)


def _api_key(settings: Settings) -> str:
    provider = settings.llm_model.partition(":")[0]
    attribute = PROVIDER_KEYS.get(provider)
    return getattr(settings, attribute) if attribute else ""
