"""The `rules` engine: deterministic triage with no network.

Order matters and is the contract with tenants: their own rules first (first match
wins), then automated mail to `ignore`, then direct questions to `respond`, then
`notify`. Every decision names the rule that fired.
"""

from __future__ import annotations

import re
from typing import Any

from core.agent.decision import Decision, TenantView, latest
from core.agent.prefs import Rule

NO_REPLY = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer-daemon|postmaster|bounces?)",
    re.IGNORECASE,
)
BULK_PRECEDENCE = {"bulk", "list", "junk"}
ASKING = re.compile(
    r"\b(can|could|would|will) you\b|\bplease (let me know|advise|confirm|send)\b",
    re.IGNORECASE,
)
# A message to many people is an announcement, even when it ends with a question.
MAX_DIRECT_RECIPIENTS = 3
QUOTE_MARKERS = ("-----original message", "----- forwarded by", "-----forwarded")


class RulesEngine:
    name = "rules"

    def triage(
        self, *, tenant: TenantView, conversation: list[dict[str, Any]]
    ) -> Decision:
        email = latest(conversation)

        for rule in tenant.prefs.rules:
            if rule_matches(rule, email):
                return _by_rule(rule, email, tenant)

        automated = automation_reason(email)
        if automated:
            return Decision(
                triage="ignore",
                rule=f"automated:{automated}",
                reason=f"automated mail ({automated})",
            )

        if asks_tenant(email, tenant):
            return _respond(
                email,
                tenant,
                rule="direct-question",
                reason="the sender asks you something directly",
            )

        return Decision(
            triage="notify", rule="default", reason="no rule matched; for your eyes"
        )


def _by_rule(rule: Rule, email: dict[str, Any], tenant: TenantView) -> Decision:
    fired, reason = f"rule:{rule.name}", f"tenant rule {rule.name!r} matched"
    if rule.action == "respond":
        return _respond(email, tenant, rule=fired, reason=reason)
    return Decision(triage=rule.action, rule=fired, reason=reason)


def _respond(
    email: dict[str, Any], tenant: TenantView, *, rule: str, reason: str
) -> Decision:
    return Decision(
        triage="respond",
        rule=rule,
        reason=reason,
        draft=draft_reply(email, tenant),
        draft_to=[email["from_address"]],
    )


def rule_matches(rule: Rule, email: dict[str, Any]) -> bool:
    sender = email["from_address"].casefold()
    domain = sender.rpartition("@")[2]
    checks = [
        (rule.sender, lambda v: v.casefold() == sender),
        (rule.domain, lambda v: domain == v.casefold().lstrip("@")),
        (rule.subject_keywords, lambda v: v.casefold() in email["subject"].casefold()),
        (rule.body_keywords, lambda v: v.casefold() in email["body"].casefold()),
    ]
    return all(
        any(test(value) for value in values) for values, test in checks if values
    )


def automation_reason(email: dict[str, Any]) -> str | None:
    """Which header or sender marks the mail as automated, if any."""
    headers = {k.lower(): v for k, v in email.get("automation_headers", {}).items()}
    if "list-unsubscribe" in headers:
        return "list-unsubscribe"
    if "list-id" in headers:
        return "list-id"
    if headers.get("auto-submitted", "no").strip().lower() != "no":
        return "auto-submitted"
    if headers.get("precedence", "").strip().lower() in BULK_PRECEDENCE:
        return "precedence"
    if NO_REPLY.match(email["from_address"].partition("@")[0]):
        return "no-reply-sender"
    return None


def asks_tenant(email: dict[str, Any], tenant: TenantView) -> bool:
    to = [address.casefold() for address in email.get("to", [])]
    if tenant.email.casefold() not in to or len(to) > MAX_DIRECT_RECIPIENTS:
        return False
    text = fresh_text(email["body"])
    return "?" in text or bool(ASKING.search(text))


def fresh_text(body: str) -> str:
    """The sender's own words: quoted replies and forwards cut off."""
    kept = []
    for line in body.splitlines():
        lowered = line.strip().lower()
        if lowered.startswith(QUOTE_MARKERS) or re.match(r"on .+ wrote:$", lowered):
            break
        if not lowered.startswith(">"):
            kept.append(line)
    return "\n".join(kept)


def draft_reply(email: dict[str, Any], tenant: TenantView) -> str:
    """A short holding reply in the tenant's name, shaped by their style."""
    who = sender_name(email)
    first = who.split()[0].strip(",") if who else "there"
    formal = "formal" in tenant.prefs.response_style.lower()
    greeting = f"Dear {who}," if formal else f"Hi {first},"
    closing = "Kind regards," if formal else "Best,"
    subject = email["subject"].strip() or "your message"
    return (
        f'{greeting}\n\nThank you for your message about "{subject}". '
        "I have read your question and will get back to you with an answer "
        f"shortly.\n\n{closing}\n{tenant.name}"
    )


def sender_name(email: dict[str, Any]) -> str:
    """The display name, or one made of the address: david.shimko -> David Shimko."""
    name = (email.get("from_name") or "").strip().strip('"')
    if name and "@" not in name:
        return name
    local = email["from_address"].partition("@")[0]
    words = [word for word in re.split(r"[._\-+]+", local) if word.isalpha()]
    return " ".join(word.capitalize() for word in words)
