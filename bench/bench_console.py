"""Console benchmark: the Overview's queries and the Tenants table on a big SQLite.

Run from the project root: `python bench/bench_console.py [--smoke]`. Seeds 10,000
tenants with crons, 1,000,000 job_runs spread over the last `--days` days (default
one: every run inside the Overview's day window, the hardest case) and 100,000
threads, then times `metrics.overview` (all its queries together) and
`tenant_table.tenant_page` (first page, a deep page, a search and a status
filter). Exits 1 when any of them takes 1 s or more.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from core import db, metrics, tenant_table  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from core.timeutil import utcnow  # noqa: E402
from core.viewer import Viewer  # noqa: E402

LIMIT_SECONDS = 1.0
STATUSES = ["ok"] * 90 + ["error"] * 5 + ["skipped"] * 3 + ["timeout"] * 2
CHUNK = 50_000
ADMIN = Viewer.admin()


def _stamp(moment: object) -> str:
    # SQLite keeps times as naive UTC text in SQLAlchemy's format.
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # type: ignore[attr-defined]


def _insert(settings: Settings, sql: str, rows: list[tuple]) -> None:
    with db.get_engine(settings).begin() as conn:
        for start in range(0, len(rows), CHUNK):
            conn.exec_driver_sql(sql, rows[start : start + CHUNK])


def seed(
    settings: Settings, tenants: int, runs: int, threads: int, days: float
) -> None:
    rng = random.Random(7)
    now = utcnow()
    created = _stamp(now - timedelta(days=days + 1))
    ids = [f"t{n:05}" for n in range(tenants)]
    cron_ids = [uuid.uuid4().hex for _ in ids]
    _insert(
        settings,
        "INSERT INTO users (user_id, email, display_name, mail_source, status, "
        "is_demo, prefs, cursor, created_at, updated_at) "
        "VALUES (?, ?, '', 'folder', ?, 0, '{}', '{}', ?, ?)",
        [
            (
                uid,
                f"{uid}@bench.example",
                "active" if n % 50 else "needs_reauth",
                created,
                created,
            )
            for n, uid in enumerate(ids)
        ],
    )
    _insert(
        settings,
        "INSERT INTO user_crons (id, user_id, cron_id, email, status, schedule, "
        "timezone, consecutive_failures, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'UTC', 0, ?, ?)",
        [
            (
                cron_ids[n],
                uid,
                f"cron-{n}",
                f"{uid}@bench.example",
                "paused" if n % 20 == 0 else "active",
                f"{n % 60} * * * *",
                created,
                created,
            )
            for n, uid in enumerate(ids)
        ],
    )
    span = days * 86_400
    run_rows = []
    for n in range(runs):
        tenant = n % tenants
        started = now - timedelta(seconds=span * (n / runs))
        status = rng.choice(STATUSES)
        run_rows.append(
            (
                ids[tenant],
                cron_ids[tenant],
                _stamp(started),
                _stamp(started),
                _stamp(started),
                status,
                round(rng.uniform(0.1, 30.0), 3),
            )
        )
    _insert(
        settings,
        "INSERT INTO job_runs (user_id, user_cron_id, trigger, scheduled_for, "
        "started_at, finished_at, status, emails_fetched, threads_created, "
        "duration_s) VALUES (?, ?, 'schedule', ?, ?, ?, ?, 0, 0, ?)",
        run_rows,
    )
    _insert(
        settings,
        "INSERT INTO threads (thread_id, owner, source_thread_id, subject, sender, "
        "status, created_at, updated_at) VALUES (?, ?, ?, '', '', 'ignored', ?, ?)",
        [
            (
                uuid.uuid4().hex,
                ids[n % tenants],
                f"s{n}",
                _stamp(now - timedelta(seconds=span * (n / threads))),
                _stamp(now - timedelta(seconds=span * (n / threads))),
            )
            for n in range(threads)
        ],
    )
    with db.get_engine(settings).begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def timed(action: Callable[[], object]) -> float:
    """The best of three runs, in seconds (the first warms SQLite's page cache)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def measure(settings: Settings, tenants: int) -> dict[str, float]:
    last = max(0, tenants - 25)
    return {
        "overview (all queries)": timed(
            lambda: metrics.overview(viewer=ADMIN, settings=settings)
        ),
        "tenants table, first page": timed(
            lambda: tenant_table.tenant_page(viewer=ADMIN, settings=settings)
        ),
        "tenants table, last page": timed(
            lambda: tenant_table.tenant_page(
                viewer=ADMIN, offset=last, settings=settings
            )
        ),
        "tenants table, search": timed(
            lambda: tenant_table.tenant_page(
                viewer=ADMIN, search="t0999", settings=settings
            )
        ),
        "tenants table, paused": timed(
            lambda: tenant_table.tenant_page(
                viewer=ADMIN, status="paused", settings=settings
            )
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny, quick run")
    parser.add_argument("--days", type=float, default=1.0)
    args = parser.parse_args()
    tenants, runs, threads = (
        (200, 20_000, 2_000) if args.smoke else (10_000, 1_000_000, 100_000)
    )

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=tmp, database_url=f"sqlite:///{tmp}/bench.db", llm_model="rules"
        )
        db.upgrade(settings)
        started = time.perf_counter()
        seed(settings, tenants, runs, threads, args.days)
        print(
            f"seeded {tenants:,} tenants, {runs:,} runs over {args.days:g} day(s), "
            f"{threads:,} threads in {time.perf_counter() - started:.1f} s"
        )
        figures = measure(settings, tenants)
        db.dispose_engines()

    for name, seconds in figures.items():
        verdict = "ok" if seconds < LIMIT_SECONDS else "TOO SLOW"
        print(f"{name:<28} {seconds * 1000:8.1f} ms   {verdict}")
    print(f"each must stay under {LIMIT_SECONDS:.0f} s")
    return 0 if all(s < LIMIT_SECONDS for s in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
