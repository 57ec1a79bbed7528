"""The README's pictures and links to project files point at files that exist."""

from __future__ import annotations

import re

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
