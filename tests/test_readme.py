"""The README's pictures and links to project files point at files that exist."""

from __future__ import annotations

import re

from core.settings import Settings
from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
# Markdown links and images whose target is a path in the project, not a URL.
LOCAL_TARGET = re.compile(r"!?\[[^\]]*\]\((?!https?://|#)([^)\s]+)\)")


def test_every_local_link_in_the_readme_names_an_existing_file() -> None:
    targets = LOCAL_TARGET.findall(README.read_text())

    missing = [t for t in targets if not (PROJECT_ROOT / t).exists()]

    assert "docs/make-run-overview.png" in targets
    assert missing == []


def test_the_readme_screenshot_is_a_png_of_the_overview() -> None:
    picture = (PROJECT_ROOT / "docs" / "make-run-overview.png").read_bytes()

    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(picture) > 20_000


def test_the_settings_table_lists_exactly_the_settings() -> None:
    table = README.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]

    first_cells = [row.split("|")[1] for row in rows]
    named = {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)}

    assert named == {name.upper() for name in Settings.model_fields}
