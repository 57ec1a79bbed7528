"""Home: what mailcron is doing, and how to add the first tenant."""

import streamlit as st

st.title("mailcron")
st.write(
    "mailcron runs an email assistant for each tenant on that tenant's own schedule: "
    "every tick fetches new mail, triages each thread and drafts replies for review."
)

st.subheader("Add a tenant")
st.markdown(
    "- **From a folder of .eml files** (no Google account needed):  \n"
    "  `python -m core create-user-cron --user-id alice --email alice@example.com "
    "--mailbox path/to/folder`\n"
    "- **With Gmail**: set `GOOGLE_CLIENT_SECRETS_FILE` and use *Connect Gmail*.\n"
    "- **Demo tenants**: `python -m core demo` loads three invented mailboxes."
)
