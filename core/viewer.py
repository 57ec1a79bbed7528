"""Who is looking: every read function takes a viewer and filters by owner."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Viewer:
    """An admin sees every tenant; a tenant viewer sees only their own rows."""

    user_id: str | None
    is_admin: bool = False
    email: str | None = None

    @classmethod
    def admin(cls, email: str | None = None) -> Viewer:
        return cls(user_id=None, is_admin=True, email=email)

    @classmethod
    def tenant(cls, user_id: str, email: str | None = None) -> Viewer:
        return cls(user_id=user_id, is_admin=False, email=email)

    def may_see(self, owner: str | None) -> bool:
        return self.is_admin or (owner is not None and owner == self.user_id)

    @property
    def actor(self) -> str:
        """How audit events name this viewer."""
        if self.is_admin:
            return f"admin:{self.email or 'local'}"
        return f"tenant:{self.user_id}"
