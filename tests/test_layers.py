"""The house rules that keep the layers apart, and the Procfile the README explains."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import core
from tests.conftest import PROJECT_ROOT

# Modules run as scripts or by Alembic only, not imported by the app.
NOT_IMPORTED = {"core.__main__", "core.migrations.env"}


def _core_modules() -> list[str]:
    found = pkgutil.walk_packages(core.__path__, prefix="core.")
    return sorted(m.name for m in found if m.name not in NOT_IMPORTED)


def test_no_core_module_imports_streamlit() -> None:
    modules = _core_modules()
    program = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "core.api" in modules and "core.scheduler" in modules
    assert result.stdout.strip() == "[]"


def test_every_procfile_process_is_explained_in_the_readme() -> None:
    procfile = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    readme = (PROJECT_ROOT / "README.md").read_text()

    processes = {line.split(":", 1)[0] for line in procfile if line.strip()}

    assert processes == {"web", "worker", "api"}
    section = readme.split("## Processes (Procfile)", 1)[1].split("\n## ", 1)[0]
    assert all(f"- `{name}`:" in section for name in processes)
