"""APScheduler adapters: a trigger with standard crontab meaning, and an executor
that hands our dispatcher every due fire time so misfires are ours to decide."""

from __future__ import annotations

import concurrent.futures
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.triggers.base import BaseTrigger

from core import cron_expr


class CrontabTrigger(BaseTrigger):
    """An APScheduler trigger with standard crontab meaning (see core.cron_expr).

    It fires `offset_s` seconds after each nominal time; `nominal()` gives the
    nominal time back, which is what a run records as `scheduled_for`."""

    def __init__(self, expr: str, timezone: str, offset_s: int = 0) -> None:
        self.expr = expr
        self.timezone = timezone
        self.offset = timedelta(seconds=offset_s)
        self._spec = cron_expr.parse(expr, allow_seconds=True)
        self._zone = cron_expr.get_zone(timezone)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None:
            after = previous_fire_time - self.offset
        else:
            after = now - self.offset - timedelta(microseconds=1)
        nominal = cron_expr.next_fire(self._spec, self._zone, after)
        return nominal + self.offset if nominal is not None else None

    def nominal(self, fire_time: datetime) -> datetime:
        return fire_time - self.offset

    def __str__(self) -> str:
        return f"crontab[{self.expr} {self.timezone}]"


class TickExecutor(BaseExecutor):
    """Calls `job.func(*job.args, run_times)` on a bounded thread pool."""

    def __init__(self, workers: int) -> None:
        super().__init__()
        self.pool = concurrent.futures.ThreadPoolExecutor(
            workers, thread_name_prefix="mailcron-tick"
        )
        self.futures: set[concurrent.futures.Future] = set()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        arguments = (*job.args, list(run_times))
        future = self.pool.submit(job.func, *arguments)
        self.futures.add(future)
        future.add_done_callback(lambda done: self._done(job.id, done))

    def _done(self, job_id: str, future: concurrent.futures.Future) -> None:
        self.futures.discard(future)
        error = future.exception()
        if error is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, [])

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=not wait)
