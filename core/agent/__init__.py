"""The LangGraph assistant: triage, drafts, review."""
