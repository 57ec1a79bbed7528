"""The assistant as a LangGraph graph: triage, then ignore, notify or respond.

    START -> (the tenant wrote?) -> answered -> END
          -> triage -> ignore -> END
                    -> notify  -> wait_ack (interrupt) -> END
                    -> respond -> review (interrupt: approve / edit / reject) -> END

The tenant, their address and preferences come from `config["configurable"]`, so
the module-level `graph` (no checkpointer) runs on a LangGraph server as it is, and
`build_graph(checkpointer)` runs in-process. Nodes have no side effects: sending
happens in the review service after the resume, under a claim on the threads row.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt

from core.agent.decision import TenantView
from core.agent.prefs import validate_prefs


def add_emails(
    known: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Append messages, skipping ids already there: a re-run after a crash adds none."""
    seen = {email["id"] for email in known}
    return known + [email for email in new if email["id"] not in seen]


class State(TypedDict, total=False):
    emails: Annotated[list[dict[str, Any]], add_emails]
    triage: str | None
    rule: str | None
    reason: str | None
    draft: str | None
    draft_to: list[str]
    status: str
    reply: str | None


def tenant_from(config: RunnableConfig) -> TenantView:
    conf = config.get("configurable", {})
    return TenantView(
        user_id=conf["user_id"],
        email=conf["email"],
        prefs=validate_prefs(conf["prefs"]),
    )


def _engine(config: RunnableConfig) -> Any:
    engine = config.get("configurable", {}).get("engine")
    if engine is not None:
        return engine

    # On a LangGraph server nothing passes an engine: build it from the settings.
    from core.agent.engines import engine_for
    from core.settings import get_settings

    return engine_for(get_settings())


def route_start(state: State) -> Literal["answered", "triage"]:
    return "answered" if state["emails"][-1].get("from_self") else "triage"


def answered(state: State) -> dict[str, Any]:
    return {
        "status": "answered",
        "reason": "you replied in this thread",
        "rule": "from-self",
        "draft": None,
        "draft_to": [],
    }


def triage(state: State, config: RunnableConfig) -> dict[str, Any]:
    decision = _engine(config).triage(
        tenant=tenant_from(config), conversation=state["emails"]
    )
    statuses = {
        "ignore": "ignored",
        "notify": "awaiting_ack",
        "respond": "awaiting_review",
        "failed": "failed",
    }
    return {
        "triage": decision.triage,
        "rule": decision.rule,
        "reason": decision.reason,
        "draft": decision.draft,
        "draft_to": decision.draft_to,
        "status": statuses[decision.triage],
        "reply": None,
    }


def route_triage(state: State) -> Literal["wait_ack", "review", "__end__"]:
    if state["triage"] == "notify":
        return "wait_ack"
    if state["triage"] == "respond":
        return "review"
    return "__end__"


def wait_ack(state: State) -> dict[str, Any]:
    interrupt({"kind": "acknowledge", "reason": state.get("reason")})
    return {"status": "acknowledged"}


def review(state: State) -> dict[str, Any]:
    answer = interrupt(
        {"kind": "review", "draft": state.get("draft"), "to": state.get("draft_to")}
    )
    action = (answer or {}).get("action")
    if action == "reject":
        return {"status": "rejected", "reply": None}
    text = (answer or {}).get("text") or state.get("draft")
    return {"status": "approved", "reply": text, "draft": text}


def build_graph(checkpointer: BaseCheckpointSaver | None = None) -> CompiledStateGraph:
    builder = StateGraph(State)
    builder.add_node("answered", answered)
    builder.add_node("triage", triage)
    builder.add_node("wait_ack", wait_ack)
    builder.add_node("review", review)
    builder.add_conditional_edges(START, route_start)
    builder.add_conditional_edges("triage", route_triage)
    builder.add_edge("answered", END)
    builder.add_edge("wait_ack", END)
    builder.add_edge("review", END)
    return builder.compile(checkpointer=checkpointer, name="mailcron-assistant")


# For `langgraph.json`: a LangGraph server brings its own checkpointer.
graph = build_graph()
