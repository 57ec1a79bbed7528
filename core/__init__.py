"""mailcron core: everything that is not a Streamlit page lives here."""
