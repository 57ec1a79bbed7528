"""The in-process graph: compiled once per database over its checkpointer."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from core.agent.checkpoint import get_checkpointer
from core.agent.graph import build_graph
from core.agent.prefs import default_prefs, validate_prefs
from core.models import TenantInfo
from core.settings import Settings

# Fixed forever: changing it would give every existing thread a new id.
THREAD_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5f7a-9c21-4b0e6d8a3f15")

_graphs: dict[str, CompiledStateGraph] = {}
_lock = threading.Lock()


def graph_for(settings: Settings) -> CompiledStateGraph:
    saver = get_checkpointer(settings)
    with _lock:
        cached = _graphs.get(settings.database_url)
        # A reopened checkpointer (after close_checkpointers) needs a new graph.
        if cached is None or cached.checkpointer is not saver:
            cached = _graphs[settings.database_url] = build_graph(saver)
        return cached


def forget_graphs() -> None:
    with _lock:
        _graphs.clear()


def thread_id_for(owner: str, thread_key: str) -> str:
    """Owner first, so two tenants with the same source thread id never collide."""
    return str(uuid.uuid5(THREAD_NAMESPACE, f"{owner}:{thread_key}"))


def prefs_for(tenant: TenantInfo) -> dict[str, Any]:
    """The tenant's stored preferences, validated; defaults when they set none."""
    if not tenant.prefs:
        return default_prefs(tenant.display_name or tenant.email)
    return validate_prefs(tenant.prefs).model_dump()


def run_config(
    tenant: TenantInfo, thread_id: str, *, engine: Any = None
) -> RunnableConfig:
    configurable: dict[str, Any] = {
        "thread_id": thread_id,
        "user_id": tenant.user_id,
        "email": tenant.email,
        "prefs": prefs_for(tenant),
    }
    if engine is not None:
        configurable["engine"] = engine
    return {"configurable": configurable, "metadata": {"owner": tenant.user_id}}
