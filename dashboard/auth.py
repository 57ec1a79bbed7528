"""Who is using the console: the one place pages ask for their viewer.

The console is bound to loopback, so whoever reaches it is the local admin. Real
sign-in replaces the body of `current_viewer`; pages do not change.
"""

from __future__ import annotations

from core.viewer import Viewer

# Tests set this to look at the console as a tenant (see tests/console_helpers.py);
# it is process-wide, which is why nothing but tests may set it.
_override: Viewer | None = None


def current_viewer() -> Viewer:
    if _override is not None:
        return _override
    return Viewer.admin()


def act_as(viewer: Viewer | None) -> None:
    """Make every session see the console as `viewer` (None: back to normal)."""
    global _override
    _override = viewer
