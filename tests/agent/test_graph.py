"""The graph on its own: the module-level graph for a server, owner metadata."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from core.agent import service
from core.agent.checkpoint import get_checkpointer
from core.agent.graph import build_graph, graph
from core.agent.prefs import default_prefs
from core.settings import Settings
from tests.agent.kit import add_tenant, record

ROOT = Path(__file__).resolve().parents[2]


def _config(thread_id: str) -> dict:
    return {
        "configurable": {
            "thread_id": thread_id,
            "user_id": "olivia",
            "email": "olivia@acme.example",
            "prefs": default_prefs("Olivia Owner"),
        },
        "metadata": {"owner": "olivia"},
    }


def test_langgraph_json_names_the_module_graph_without_checkpointer() -> None:
    spec = json.loads((ROOT / "langgraph.json").read_text())["graphs"]["assistant"]
    path, _, name = spec.partition(":")
    module = ".".join(Path(path).with_suffix("").parts)

    listed = getattr(importlib.import_module(module), name)

    assert listed is graph
    assert graph.checkpointer is None


def test_graph_reads_tenant_from_config_and_waits_for_review() -> None:
    compiled = build_graph(InMemorySaver())
    config = _config("t-1")

    first = compiled.invoke({"emails": [record(id="m1").as_dict()]}, config=config)
    resumed = compiled.invoke(Command(resume={"action": "reject"}), config=config)

    assert first["__interrupt__"][0].value["to"] == ["carol@partner.example"]
    assert first["draft"].rstrip().endswith("Olivia Owner")
    assert resumed["status"] == "rejected"


def test_service_runs_carry_owner_metadata(agent_settings: Settings) -> None:
    olivia = add_tenant(agent_settings, "olivia", "olivia@acme.example")

    outcome = service.process_email(
        tenant=olivia, email=record(id="m1"), settings=agent_settings
    )

    saved = get_checkpointer(agent_settings).get_tuple(
        {"configurable": {"thread_id": outcome.thread_id, "checkpoint_ns": ""}}
    )
    assert saved is not None
    assert saved.metadata["owner"] == "olivia"
