"""Streamlit side of mailcron: the entry script, shared widgets and layout."""
