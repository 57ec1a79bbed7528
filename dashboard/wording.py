"""How stored values read on the pages: raw names, empty cells, embedded phrases."""

from __future__ import annotations

import pandas as pd

NONE_YET = "none yet"


def readable(name: object) -> str:
    """`awaiting_review` as `awaiting review`: for statuses and filter choices."""
    return str(name).replace("_", " ")


def is_missing(value: object) -> bool:
    """None, or pandas' NaN / NaT: what an empty cell of a frame holds."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def or_default(value: object, default: str = NONE_YET) -> str:
    """A frame cell as text, or `default` when the cell is empty."""
    return default if is_missing(value) else str(value)


def mid_sentence(phrase: str) -> str:
    """A phrase that starts a sentence of its own (`At 00:00`), for inside another.

    Only the first letter is lowered, so names and zones later on stay as they are.
    """
    return phrase[:1].lower() + phrase[1:]
