"""Tenant settings: a tenant's assistant preferences, tried on a message, then saved."""

import json
from typing import Any

import streamlit as st

from core import console_actions as actions
from core import tenant_table, tenants
from core.agent.runtime import prefs_for
from core.errors import MailcronError
from core.models import TenantInfo
from dashboard.auth import current_viewer
from dashboard.runtime import settings_or_stop
from dashboard.widgets import add_tenant_help, flash, show_flash

CHOICES = 50
RULES_EXAMPLE = (
    '[{"name": "newsletters", "action": "ignore", "domain": ["news.example"]}]'
)

settings = settings_or_stop()
viewer = current_viewer()
st.title("Tenant settings")
show_flash()


def _pick_tenant() -> TenantInfo | None:
    search = ""
    if viewer.is_admin:
        search = st.text_input("Find a tenant by email", key="prefs-search")
    page = tenant_table.tenant_page(
        viewer=viewer, search=search or None, limit=CHOICES, settings=settings
    )
    if page.total == 0:
        st.info("No tenant to configure yet. Add one first:")
        add_tenant_help()
        return None
    user_id = st.selectbox("Tenant", list(page.rows.user_id), key="prefs-tenant")
    return tenants.get_tenant(user_id=user_id, viewer=viewer, settings=settings)


def _form(tenant: TenantInfo) -> tuple[dict[str, Any] | None, bytes, bool, bool]:
    current = prefs_for(tenant)
    key = tenant.user_id
    with st.form(key="prefs-form"):
        name = st.text_input("Name", value=current["name"], key=f"prefs-name-{key}")
        background = st.text_area(
            "Background", value=current["background"], key=f"prefs-bg-{key}"
        )
        style = st.text_input(
            "Response style", value=current["response_style"], key=f"prefs-style-{key}"
        )
        zone = st.text_input(
            "Timezone", value=current["timezone"], key=f"prefs-tz-{key}"
        )
        rules = st.text_area(
            "Triage rules (JSON list)",
            value=json.dumps(current["rules"], indent=2),
            help=f"For example: {RULES_EXAMPLE}",
            key=f"prefs-rules-{key}",
        )
        st.markdown("**Try it** on a message before saving")
        pasted = st.text_area("Paste a raw message (.eml)", key=f"dryrun-text-{key}")
        uploaded = st.file_uploader(
            "…or upload one", type=["eml"], key=f"dryrun-file-{key}"
        )
        left, right = st.columns(2)
        tried = left.form_submit_button("Try on the message", key="prefs-try")
        saved = right.form_submit_button("Save preferences", key="prefs-save")

    raw = uploaded.getvalue() if uploaded else pasted.encode()
    try:
        parsed_rules = json.loads(rules or "[]")
    except json.JSONDecodeError as err:
        if tried or saved:
            st.error(f"The rules are not valid JSON ({err.msg}); nothing was saved.")
        return None, raw, False, False
    prefs = {
        "name": name,
        "background": background,
        "response_style": style,
        "timezone": zone,
        "rules": parsed_rules,
    }
    return prefs, raw, tried, saved


def _try(tenant: TenantInfo, prefs: dict[str, Any], raw: bytes) -> None:
    try:
        decision = actions.try_prefs(
            viewer=viewer,
            user_id=tenant.user_id,
            prefs=prefs,
            raw_message=raw,
            settings=settings,
        )
    except MailcronError as err:
        st.error(str(err), icon="⚠️")
        return
    st.success(f"Triage: **{decision.triage}** (rule `{decision.rule}`)")
    st.caption(decision.reason)
    if decision.draft:
        st.text_area(
            "Draft it would write", decision.draft, disabled=True, key="dryrun-draft"
        )


def _save(tenant: TenantInfo, prefs: dict[str, Any]) -> None:
    try:
        actions.save_prefs(
            viewer=viewer, user_id=tenant.user_id, prefs=prefs, settings=settings
        )
    except MailcronError as err:
        st.error(str(err), icon="⚠️")
        return
    flash(f"Preferences of {tenant.user_id} saved.")
    st.rerun()


def main() -> None:
    tenant = _pick_tenant()
    if tenant is None:
        return
    prefs, raw, tried, saved = _form(tenant)
    if prefs is None:
        return
    if tried:
        _try(tenant, prefs, raw)
    if saved:
        _save(tenant, prefs)


main()
