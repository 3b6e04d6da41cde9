"""`Daemon`: the scheduler, the membership, the leases, the heartbeat and the metrics server of `connector run`.

Threads, constant whatever the number of connections: APScheduler's loop; a small "control" pool for the
heartbeat and the membership tick (so busy sync jobs cannot starve them); a pool of `CONNECTOR_WORKERS` for the
jobs themselves (jobs due while every worker is busy wait in its queue: `connector_job_queue_delay_seconds`); the
observability server. Only the connections whose lease this replica holds have jobs in the scheduler: they are
added when a lease is gained and removed when it is released or lost. The main thread waits for a stop
(SIGTERM/SIGINT sets the token), then: no new job starts, running jobs commit the page or row in hand and end
(their waits end at once), the replica deregisters, leases are released, and `run` returns.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from connector.app import App
from connector.clock import Clock, SystemClock
from connector.daemon.jobs import JobRunner, JobSpec, plan_jobs
from connector.daemon.leasing import LeaseKeeper
from connector.daemon.membership import Membership, Tick
from connector.daemon.metered import start_metrics
from connector.daemon.pool import TimedPool
from connector.domain import JobStatus
from connector.errors import ConfigError
from connector.observability import metrics as obs
from connector.observability.events import get_logger
from connector.observability.health import DatabaseReadiness, Heartbeat
from connector.observability.scale_metrics import ScaleMetrics
from connector.observability.server import ObservabilityServer, serve
from connector.observability.store_gauges import StoreGauges
from connector.settings import Settings
from connector.stopping import StopToken

__all__ = ["Daemon", "StopOutcome"]

log = get_logger("connector.daemon")


@dataclass(frozen=True, slots=True)
class StopOutcome:
    """How the daemon ended: `clean` when every job ended within the grace period."""

    clean: bool
    still_running: int
    reason: str


class Daemon:
    """Runs every connection's jobs on schedule until stopped.

    Args:
        settings: process settings (ports, heartbeat, grace, leases, workers).
        stop: the token SIGTERM sets; the daemon's `App` is built with it.
        clock: time source (tests may pass their own).
        app: a prebuilt App sharing `stop` (tests pass one with given connections); built from settings if None.
    """

    def __init__(
        self, settings: Settings, stop: StopToken, *, clock: Clock | None = None, app: App | None = None
    ) -> None:
        """Build everything; nothing runs until `start()`."""
        self.settings = settings
        self.stop = stop
        base_clock = clock or SystemClock()
        self.app = app or App(settings, clock=base_clock, stop=stop)
        self.clock = self.app.clock
        self.engine = self.app.migrated_engine()  # refuses an unmigrated database before anything starts
        self.jobs: list[JobSpec] = plan_jobs(self.app)
        self._jobs_of: dict[str, list[JobSpec]] = defaultdict(list)
        for job in self.jobs:
            self._jobs_of[job.connection].append(job)
        names = sorted(self._jobs_of)
        ttl = timedelta(seconds=settings.lease_ttl_seconds)
        self.leases = LeaseKeeper(self.engine, settings.replica_id, names, ttl, base_clock)
        self.membership = Membership(self.engine, self.leases, ttl, base_clock)
        self.runner = JobRunner(self.app, self.leases, stop, settings.replica_id, base_clock,
                                on_drained=self._hand_off)
        self.heartbeat = Heartbeat(settings.health_max_age_seconds)
        self.metrics = obs.Metrics()
        self.metrics.registry.register(
            StoreGauges.for_engine(self.engine, connections=names, replica_id=settings.replica_id)
        )
        self.scale = ScaleMetrics(self.metrics.registry)
        self.scale.configured.set(len(names))
        self.scale.workers.set(settings.workers)
        self.scheduler = BackgroundScheduler(
            executors={
                "default": TimedPool(settings.workers, self._job_started),
                "control": ThreadPoolExecutor(2),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.server: ObservabilityServer | None = None
        self._scheduled: set[str] = set()
        self._schedule_lock = threading.Lock()

    def start(self) -> None:
        """Serve /metrics /healthz /readyz, register, claim this replica's share, and start the scheduler."""
        obs.install(self.metrics)
        start_metrics(self.metrics, self.engine, self.app.connections, self.jobs)  # before the first scrape
        try:  # bound before any lease is claimed: a daemon that cannot start holds nothing
            self.server = serve(
                self.metrics,
                self.heartbeat,
                DatabaseReadiness(self.engine),
                host=self.settings.metrics_host,
                port=self.settings.metrics_port,
            )
        except OSError as exc:
            raise ConfigError(
                "settings",
                "CONNECTOR_METRICS_PORT",
                f"cannot serve /metrics on {self.settings.metrics_host}:{self.settings.metrics_port} "
                f"({exc.strerror or exc}); choose a free port",
            ) from None
        self._observe(self.membership.join())
        self._sync_schedule()
        now = datetime.now(UTC)
        self.scheduler.add_job(
            self.heartbeat.tick,
            IntervalTrigger(seconds=self.settings.heartbeat_seconds, timezone=UTC),
            id="heartbeat",
            executor="control",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self.rebalance,
            IntervalTrigger(seconds=self.settings.lease_ttl_seconds / 3, timezone=UTC),
            id="membership",
            executor="control",
        )
        self.scheduler.start()
        log.info(
            "daemon started",
            replica=self.settings.replica_id,
            jobs=len(self.jobs),
            workers=self.settings.workers,
            leases=_names(self.leases.claimed()),
            metrics=self.server.url,
        )

    def rebalance(self) -> Tick:
        """One membership tick: heartbeat, renew, claim up to the fair share, hand the surplus off when idle."""
        if self.stop.stopped:
            return Tick(0, 0, frozenset(self.leases.claimed()), frozenset(), frozenset(), ())
        tick = self.membership.tick()
        self._observe(tick)
        self.runner.drain(tick.surplus)
        self._sync_schedule()
        return tick

    def _observe(self, tick: Tick) -> None:
        self.scale.live.set(tick.live)
        self.scale.share.set(tick.share)
        self.scale.held.set(len(tick.held))
        self.scale.moved("gained", len(tick.gained))
        self.scale.moved("lost", len(tick.lost))
        if tick.gained or tick.lost or tick.surplus:
            self.scale.rebalances.inc()
            log.info("rebalance", replica=self.settings.replica_id, gained=len(tick.gained), lost=len(tick.lost),
                     surplus=len(tick.surplus), held=len(tick.held), share=tick.share, live=tick.live)

    def _hand_off(self, names: list[str]) -> None:
        """Surplus connections with no job running: release their leases (one statement) and drop their jobs."""
        released = self.leases.release(names)
        self.scale.moved("released", released)
        self.scale.held.set(len(self.leases.claimed()))
        self._sync_schedule()

    def _job_started(self, job_id: str, delay: float) -> None:
        self.scale.queue_delay.observe(delay)

    def _sync_schedule(self) -> None:
        """Give the scheduler the jobs of exactly the connections held here."""
        with self._schedule_lock:
            if self.stop.stopped:
                return
            held = self.leases.claimed()
            for name in sorted(self._scheduled - held):
                for job in self._jobs_of[name]:
                    with contextlib.suppress(JobLookupError):
                        self.scheduler.remove_job(job.id)
                self._scheduled.discard(name)
            now = datetime.now(UTC)
            for name in sorted(held - self._scheduled):
                for job in self._jobs_of.get(name, []):
                    self._add(job, now)
                self._scheduled.add(name)

    def _add(self, job: JobSpec, now: datetime) -> None:
        first = None
        # interval jobs start now (plus jitter), not one interval late; but an audit waits its interval, so
        # it compares the store with the service after the pulls filled it, not read everything one by one
        if job.interval_seconds is not None and job.kind != "audit":
            first = now + timedelta(seconds=random.uniform(0, job.jitter_seconds))
        grace = int(job.interval_seconds) if job.interval_seconds else 3600
        self.scheduler.add_job(
            self.runner,
            job.trigger,
            args=(job,),
            id=job.id,
            name=job.id,
            misfire_grace_time=max(1, grace),
            replace_existing=True,
            **({"next_run_time": first} if first is not None else {}),
        )

    def wait(self) -> None:
        """Block until the stop token is set."""
        while not self.stop.wait(1.0):
            pass

    def shutdown(self) -> StopOutcome:
        """Stop: start no job, let running ones end within the grace period, release leases, stop serving."""
        self.stop.stop(self.stop.reason or "shutdown")
        if self.scheduler.running:
            self.scheduler.pause()
        grace = self.settings.shutdown_grace_seconds
        clean = self.runner.wait_idle(grace)
        still = self.runner.running
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.membership.leave()
        held = len(self.leases.claimed())
        self.leases.release_all()
        self.scale.moved("released", held)
        if self.server is not None:
            self.server.stop()
        obs.uninstall()
        outcome = StopOutcome(clean, still, self.stop.reason)
        log.info("daemon stopped", reason=outcome.reason, clean=clean, still_running=still)
        return outcome

    def run_once(self, *, sweep: bool = False) -> bool:
        """Run every pull job, then every push job (and sweeps when asked) once, in this thread; True when all ok.

        Only connections whose lease this replica gets are run; leases are released at the end.
        """
        self.leases.refresh()
        order = {"pull": 0, "sweep": 1, "push": 2}
        chosen = [job for job in self.jobs if job.kind in order and (sweep or job.kind != "sweep")]  # no audits
        try:
            results = [self.runner(job) for job in sorted(chosen, key=lambda j: order[j.kind])]
        finally:
            self.leases.release_all()
        return all(status in (JobStatus.OK, JobStatus.SKIPPED) for status in results)

    def run(self) -> StopOutcome:
        """`start()`, `wait()` for the stop token, then `shutdown()`.

        A `start()` that fails half way is shut down too: the leases it claimed are released (not left to
        expire, keeping every other replica and command off those connections for a TTL), then its error
        is raised.
        """
        try:
            self.start()
            self.wait()
        finally:
            outcome = self.shutdown()
        return outcome


def _names(names: set[str], limit: int = 20) -> str:
    shown = ",".join(sorted(names)[:limit]) or "none"
    return shown + (f",... ({len(names)} in all)" if len(names) > limit else "")
