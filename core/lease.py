"""The scheduler lease: which process runs scheduled jobs for a database.

Times come from the database's clock, never the hosts', so a skewed host clock
cannot make two leaders. Taking the lease is a compare-and-swap on the holder seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.db import get_engine
from core.settings import Settings

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class LeaseState:
    leader: bool
    holder: str
    # The holder whose expired lease we just took over, if any.
    previous: str | None = None


def _now_sql(dialect: str, plus_seconds: bool = False) -> str:
    if dialect == "postgresql":
        later = " + make_interval(secs => :seconds)" if plus_seconds else ""
        return f"clock_timestamp(){later}"
    # SQLite stores our times as 'YYYY-MM-DD HH:MM:SS.ffffff' text; match that form
    # so that comparisons of text are comparisons of time.
    later = ", '+' || :seconds || ' seconds'" if plus_seconds else ""
    return f"(strftime('%Y-%m-%d %H:%M:%f', 'now'{later}) || '000')"


def acquire(settings: Settings, me: str) -> LeaseState:
    """Renew our lease, take an expired one, or learn who holds it."""
    engine = get_engine(settings)
    dialect = engine.dialect.name
    now, later = _now_sql(dialect), _now_sql(dialect, plus_seconds=True)
    params = {"name": LEASE_NAME, "me": me, "seconds": settings.lease_seconds}

    with engine.begin() as conn:
        seen = conn.execute(
            sa.text(
                f"SELECT holder, expires_at < {now} FROM scheduler_leases "
                "WHERE name = :name"
            ),
            params,
        ).first()
        if seen is None:
            return _insert(engine, params, later)
        holder, expired = seen[0], bool(seen[1])
        if holder != me and not expired:
            return LeaseState(leader=False, holder=holder)

        acquired = "acquired_at" if holder == me else now
        taken = conn.execute(
            sa.text(
                f"UPDATE scheduler_leases SET holder = :me, expires_at = {later}, "
                f"acquired_at = {acquired} WHERE name = :name AND holder = :seen"
            ),
            {**params, "seen": holder},
        ).rowcount
    if taken != 1:
        return LeaseState(leader=False, holder=holder)
    return LeaseState(leader=True, holder=me, previous=None if holder == me else holder)


def _insert(engine: sa.Engine, params: dict, later: str) -> LeaseState:
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO scheduler_leases (name, holder, acquired_at, "
                    f"expires_at) VALUES (:name, :me, {_now_sql(engine.dialect.name)}, "
                    f"{later})"
                ),
                params,
            )
    except IntegrityError:
        return LeaseState(leader=False, holder="")
    return LeaseState(leader=True, holder=params["me"])


def release(settings: Settings, me: str) -> None:
    """Let a standby take over at once instead of waiting for the lease to expire."""
    engine = get_engine(settings)
    now = _now_sql(engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE scheduler_leases SET expires_at = {now} "
                "WHERE name = :name AND holder = :me"
            ),
            {"name": LEASE_NAME, "me": me},
        )
