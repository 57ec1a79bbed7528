"""The process's scheduler: APScheduler jobs derived from `user_crons`.

One BackgroundScheduler per process and database, with an in-memory job store: the
database is the source of truth and jobs are reconciled from it on start, after
every change made in this process, and by polling for changes made elsewhere.

Every process keeps the jobs (so the console can show the schedule), but only the
holder of the lease runs them; the others stand by. The lease is renewed by a
heartbeat thread, which also polls for changes, resumes paused crons on time and
prunes old runs and closed threads once a day.

APScheduler hands due jobs to our executor with every missed fire time; the
executor coalesces them into one run if the latest is within the grace period and
records one `skipped` run otherwise. So misfires are ours to decide, not dropped
silently by APScheduler's own grace check.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from core import changes, cron_expr, crons, jobs, lease, runs
from core.aps_parts import CrontabTrigger, TickExecutor
from core.settings import Settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)

HEARTBEAT_THREAD = "mailcron-scheduler-heartbeat"
# Other processes' changes are picked up within this many seconds.
POLL_SECONDS = 2.0
PRUNE_EVERY = timedelta(days=1)
# A very long outage on a seconds schedule would enumerate millions of ticks.
MAX_COUNTED_MISSES = 100_000

Tick = Callable[..., Any]


@dataclass(frozen=True)
class Entry:
    user_cron_id: uuid.UUID
    user_id: str
    schedule: str
    timezone: str
    offset_s: int = 0


@dataclass
class SchedulerStatus:
    role: str
    me: str
    holder: str
    last_heartbeat: datetime | None
    entries: int
    next_fires: list[tuple[str, datetime]] = field(default_factory=list)
    missed_last_hour: int = 0
    skipped_last_hour: int = 0


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        *,
        work: jobs.Work | None = None,
        tick: Tick | None = None,
        holder: str = jobs.PROCESS_ID,
    ) -> None:
        self.settings = settings
        self.holder = holder
        self._work = work
        self._tick = tick or self._execute
        self.executor = TickExecutor(settings.worker_pool_size)
        self.aps = BackgroundScheduler(
            timezone=UTC,
            executors={"default": self.executor},
            job_defaults={
                "coalesce": False,
                "misfire_grace_time": None,
                "max_instances": 1_000_000,
            },
        )
        self.is_leader = False
        self.lease_holder = ""
        self.last_heartbeat: datetime | None = None
        self._entries: dict[str, Entry] = {}
        self._version: tuple[int, datetime | None] | None = None
        self._last_prune: datetime | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Scheduler:
        """Start once; later calls do nothing."""
        with self._lock:
            if self._thread is not None:
                return self
            self.reconcile()
            self.aps.start()
            changes.subscribe(self.poke)
            self._beat()
            self._thread = threading.Thread(
                target=self._heartbeat, name=HEARTBEAT_THREAD, daemon=True
            )
            self._thread.start()
        log.info(
            "scheduler started with %d cron(s) as %s", len(self._entries), self.role
        )
        return self

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop; True when the heartbeat and every running tick ended in time."""
        changes.unsubscribe(self.poke)
        self._stop.set()
        if self.aps.running:
            self.aps.shutdown(wait=False)
        pending = list(self.executor.futures)
        done, not_done = concurrent.futures.wait(pending, timeout=timeout)
        self.executor.pool.shutdown(wait=False, cancel_futures=True)
        if self._thread is not None:
            self._thread.join(timeout)
        stopped = not not_done and not self.running
        if self.is_leader:
            self._release()
        log.info("scheduler stopped (%s)", "cleanly" if stopped else "runs still going")
        return stopped

    def _release(self) -> None:
        try:
            lease.release(self.settings, self.holder)
        except Exception:
            log.exception("could not release the scheduler lease; it will expire")
        self.is_leader = False

    @property
    def role(self) -> str:
        return "leader" if self.is_leader else "standby"

    # --- heartbeat ----------------------------------------------------------------

    def _interval(self) -> float:
        # A standby looks often enough to take over soon after the lease expires.
        return max(0.2, min(POLL_SECONDS, self.settings.lease_seconds / 10))

    def _heartbeat(self) -> None:
        while not self._stop.wait(self._interval()):
            try:
                self._beat()
            except Exception:
                log.exception("scheduler heartbeat failed; trying again")

    def _beat(self) -> None:
        if crons.version(self.settings) != self._version:
            self.reconcile()
        self._renew()
        if self.is_leader:
            self._maintain()

    def _renew(self) -> None:
        try:
            state = lease.acquire(self.settings, self.holder)
        except Exception:
            log.exception("lease renewal failed; standing by until it works")
            state = lease.LeaseState(leader=False, holder=self.lease_holder)
        was_leader, self.is_leader = self.is_leader, state.leader
        changed = state.holder != self.lease_holder
        self.lease_holder = state.holder
        self.last_heartbeat = utcnow()

        if state.leader and not was_leader:
            log.warning("this process now runs scheduled jobs (lease %s)", self.holder)
            self._take_over(state.previous)
        elif was_leader and not state.leader:
            log.warning("lost the scheduler lease to %s; standing by", state.holder)
        elif not state.leader and changed:
            log.warning(
                "standing by: %s runs scheduled jobs for this database", state.holder
            )

    def _take_over(self, previous: str | None) -> None:
        if previous:
            count = runs.mark_abandoned(holder=previous, settings=self.settings)
            if count:
                log.warning("marked %d run(s) of %s abandoned", count, previous)
        self._catch_up(utcnow())

    def _maintain(self) -> None:
        now = utcnow()
        for user_id in crons.resume_due(now, self.settings):
            log.info("cron of tenant %s resumed on time", user_id)
        if self._last_prune is None or now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            self._prune(now)

    def _prune(self, now: datetime) -> None:
        # Imported here: the assistant's modules load LangGraph, which only the
        # leader's daily prune needs, not every process that keeps a schedule.
        from core.agent.threads import prune_threads

        pruned = runs.prune_runs(settings=self.settings, now=now)
        log.info(
            "pruned %d run(s) older than %d days",
            pruned,
            self.settings.run_retention_days,
        )
        prune_threads(settings=self.settings, now=now)

    # --- reconcile ----------------------------------------------------------------

    def poke(self) -> None:
        """A cron changed in this process: reconcile now."""
        if self.running or self.aps.running:
            self.reconcile()

    def reconcile(self) -> int:
        """Make the jobs match the active crons; returns how many jobs changed."""
        with self._lock:
            self._version = crons.version(self.settings)
            wanted = {
                row.cron_id: self._entry(row)
                for row in crons.active_crons(self.settings)
            }
            changed = 0
            for cron_id in set(self._entries) - set(wanted):
                self.aps.remove_job(cron_id)
                del self._entries[cron_id]
                changed += 1
            for cron_id, entry in wanted.items():
                if self._entries.get(cron_id) != entry:
                    self._put_job(cron_id, entry)
                    changed += 1
        if changed:
            log.info(
                "reconciled: %d job(s) changed, %d scheduled",
                changed,
                len(self._entries),
            )
        return changed

    def _entry(self, row: Any) -> Entry:
        offset = cron_expr.start_offset(
            row.cron_id, row.schedule, self.settings.tick_spread_seconds
        )
        return Entry(row.id, row.user_id, row.schedule, row.timezone, offset)

    def _put_job(self, cron_id: str, entry: Entry) -> None:
        trigger = CrontabTrigger(entry.schedule, entry.timezone, entry.offset_s)
        if cron_id in self._entries:
            self.aps.reschedule_job(cron_id, trigger=trigger)
        else:
            self.aps.add_job(
                self._dispatch, trigger, args=[cron_id], id=cron_id, name=entry.user_id
            )
        self._entries[cron_id] = entry

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self.aps.get_jobs())

    # --- running ticks -------------------------------------------------------------

    def _dispatch(self, cron_id: str, run_times: list[datetime] | None = None) -> None:
        """Run a due tick once, or record why not; called on the worker pool.

        `run_times` has a default only because APScheduler checks the job's
        arguments when it is added; the executor always passes it."""
        entry = self._entries.get(cron_id)
        if entry is None or not self.is_leader or not run_times:
            return
        # Fire times carry the cron's start offset; a run records the nominal time.
        started_by = run_times[-1]
        latest = started_by - timedelta(seconds=entry.offset_s)
        late = (utcnow() - started_by).total_seconds()
        if late > self.settings.misfire_grace_seconds:
            self._record_missed(entry, latest, len(run_times), late)
            return
        if len(run_times) > 1:
            log.warning(
                "tenant %s: %d missed tick(s) folded into the one at %s",
                entry.user_id,
                len(run_times) - 1,
                latest,
            )
        self._tick(
            user_cron_id=entry.user_cron_id, scheduled_for=latest, trigger="schedule"
        )

    def _execute(
        self, *, user_cron_id: uuid.UUID, scheduled_for: datetime, trigger: str
    ) -> None:
        jobs.execute_tick(
            user_cron_id=user_cron_id,
            scheduled_for=scheduled_for,
            trigger=trigger,
            settings=self.settings,
            work=self._work,
            holder=self.holder,
        )

    def _record_missed(
        self, entry: Entry, latest: datetime, count: int, late: float
    ) -> None:
        runs.record_skipped(
            user_id=entry.user_id,
            user_cron_id=entry.user_cron_id,
            scheduled_for=latest,
            kind="missed",
            reason=(
                f"{count} tick(s) missed, the last {late:.0f} s ago, beyond the "
                f"grace of {self.settings.misfire_grace_seconds} s."
            ),
            settings=self.settings,
            holder=self.holder,
        )

    def _catch_up(self, now: datetime) -> None:
        """On taking over: ticks missed while no scheduler ran, once per tenant."""
        last = runs.last_ticks(self.settings)
        updated = {
            row.cron_id: row.updated_at for row in crons.active_crons(self.settings)
        }
        for cron_id, entry in list(self._entries.items()):
            since = max(
                filter(None, (last.get(entry.user_cron_id), updated.get(cron_id))),
                default=None,
            )
            if since is None:
                continue
            offset = timedelta(seconds=entry.offset_s)
            fires = _fires_between(entry, since, now - offset)
            missed = [fire + offset for fire in fires]
            if missed:
                self.executor.pool.submit(self._dispatch, cron_id, missed)

    # --- for the console -------------------------------------------------------------

    def status(self) -> SchedulerStatus:
        upcoming = sorted(
            (job.next_run_time, job.name)
            for job in self.aps.get_jobs()
            if job.next_run_time is not None
        )[:10]
        missed, skipped = runs.recent_skips(self.settings)
        return SchedulerStatus(
            role=self.role,
            me=self.holder,
            holder=self.lease_holder,
            last_heartbeat=self.last_heartbeat,
            entries=len(self._entries),
            next_fires=[(name, when) for when, name in upcoming],
            missed_last_hour=missed,
            skipped_last_hour=skipped,
        )


def _fires_between(entry: Entry, since: datetime, now: datetime) -> list[datetime]:
    spec = cron_expr.parse(entry.schedule, allow_seconds=True)
    zone = cron_expr.get_zone(entry.timezone)
    fires: list[datetime] = []
    cursor = cron_expr.next_fire(spec, zone, since)
    while cursor is not None and cursor <= now and len(fires) < MAX_COUNTED_MISSES:
        fires.append(cursor)
        cursor = cron_expr.next_fire(spec, zone, cursor)
    return fires


# --- the process singleton --------------------------------------------------------

_instances: dict[str, Scheduler] = {}
_instances_lock = threading.Lock()


def get_scheduler(settings: Settings, *, work: jobs.Work | None = None) -> Scheduler:
    """This process's scheduler for the settings' database (not started yet)."""
    with _instances_lock:
        scheduler = _instances.get(settings.database_url)
        if scheduler is None or scheduler.stopped:
            scheduler = Scheduler(settings, work=work)
            _instances[settings.database_url] = scheduler
        return scheduler


def running_schedulers() -> list[Scheduler]:
    with _instances_lock:
        return [s for s in _instances.values() if s.running]


def shutdown_all(timeout: float = 5.0) -> bool:
    """Stop every scheduler of this process (tests, and the worker on exit)."""
    with _instances_lock:
        instances = list(_instances.values())
        _instances.clear()
    return all([s.shutdown(timeout) for s in instances])
