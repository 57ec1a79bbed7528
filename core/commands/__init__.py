"""Subcommands of `python -m core`, one module per area."""
