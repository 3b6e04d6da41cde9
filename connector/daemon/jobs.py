"""The daemon's jobs: a pull per stream, a push, a sweep and a gap audit per connection, each with its trigger.

`plan_jobs` reads the connections; `JobRunner` runs one job the way the scheduler calls it: only on the
replica holding the connection's lease, never after a stop was asked, and always leaving one log event
with the run's counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connector.app import App
from connector.clock import Clock
from connector.daemon.leasing import LeaseKeeper
from connector.daemon.pool import current_queue_delay
from connector.domain import JobStatus
from connector.errors import ConnectorError, Interrupted
from connector.observability.events import get_logger
from connector.settings import Connection
from connector.stopping import GuardedStop, StopToken
from connector.sync.engine import SWEEP_STREAM
from connector.sync.pull.gap import audit_kinds

__all__ = ["JobRunner", "JobSpec", "plan_jobs"]

log = get_logger("connector.daemon")

JobKind = Literal["pull", "push", "sweep", "audit"]
MAX_DEFAULT_JITTER = 60.0


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One scheduled job: `pull:<connection>:<stream>`, `push:<connection>`, `sweep:<connection>` or
    `audit:<connection>`."""

    id: str
    connection: str
    kind: JobKind
    stream: str | None
    trigger: BaseTrigger
    interval_seconds: float | None  # None for cron-triggered jobs
    jitter_seconds: float


def _jitter(conn: Connection, interval: float) -> float:
    if conn.jitter_seconds is not None:
        return conn.jitter_seconds
    return min(interval * 0.1, MAX_DEFAULT_JITTER)


def _interval_job(conn: Connection, kind: JobKind, stream: str | None, seconds: float) -> JobSpec:
    jitter = _jitter(conn, seconds)
    job_id = f"{kind}:{conn.name}" + (f":{stream}" if stream else "")
    trigger = IntervalTrigger(seconds=seconds, jitter=jitter or None, timezone=UTC)
    return JobSpec(job_id, conn.name, kind, stream, trigger, seconds, jitter)


def plan_jobs(app: App) -> list[JobSpec]:
    """Every job of every enabled connection (a connection's streams come from its provider when not set)."""
    jobs: list[JobSpec] = []
    for conn in app.connections:
        if not conn.enabled:
            continue
        provider = app.provider(conn)
        try:
            default_streams = [s.name for s in provider.streams() if s.default]
            can_sweep = bool(provider.sweep_kinds)
            can_audit = bool(audit_kinds(provider))
        finally:
            provider.close()
        for stream in conn.streams or default_streams:
            if stream != SWEEP_STREAM:
                seconds = conn.stream_intervals.get(stream, conn.pull_interval_seconds)
                jobs.append(_interval_job(conn, "pull", stream, seconds))
        if conn.receives:
            jobs.append(_interval_job(conn, "push", None, conn.push_interval_seconds))
        if conn.sweep_cron and can_sweep:
            jitter = conn.jitter_seconds if conn.jitter_seconds is not None else MAX_DEFAULT_JITTER
            trigger = CronTrigger.from_crontab(conn.sweep_cron, timezone=UTC)
            trigger.jitter = int(jitter) or None
            jobs.append(JobSpec(f"sweep:{conn.name}", conn.name, "sweep", None, trigger, None, jitter))
        if conn.audit_interval_seconds and can_audit:
            jobs.append(_interval_job(conn, "audit", None, conn.audit_interval_seconds))
    return jobs


class JobRunner:
    """Runs jobs for the scheduler and counts those in progress (the stop waits for them).

    Args:
        app: built with the daemon's stop token, so pulls and pushes end at their next safe point.
        keeper: the replica's leases; a job runs only while its connection's lease is held here.
        stop: the daemon's stop token; no job starts once it is set.
        replica_id: named in every job event.
        clock: for the event's timestamps.
    """

    def __init__(
        self,
        app: App,
        keeper: LeaseKeeper,
        stop: StopToken,
        replica_id: str,
        clock: Clock,
        *,
        on_drained: Callable[[list[str]], None] | None = None,
    ) -> None:
        """Nothing running yet. `on_drained(connections)` is called once draining connections have no job running
        (with their jobs held off), to release their leases; see `drain`."""
        self.app = app
        self.keeper = keeper
        self.stop = stop
        self.replica_id = replica_id
        self.clock = clock
        self.on_drained = on_drained
        self._running = 0
        self._idle = threading.Condition()
        self._busy: dict[str, threading.Lock] = {}
        self._busy_guard = threading.Lock()
        self._draining: set[str] = set()

    def drain(self, names: Iterable[str]) -> None:
        """Hand the connections `names` off at their next safe point: no job of theirs starts any more, and they are
        passed to `on_drained` as soon as no job of theirs runs: those idle now together, the others each when its
        running job ends. Connections drained before but not named again go back to normal (the share grew)."""
        wanted = set(names)
        with self._busy_guard:
            self._draining = wanted
        locked: list[threading.Lock] = []
        idle: list[str] = []
        try:
            for name in sorted(wanted):
                lock = self._connection_lock(name)
                if lock.acquire(blocking=False):
                    locked.append(lock)
                    idle.append(name)
            with self._busy_guard:
                idle = [name for name in idle if name in self._draining]
                self._draining -= set(idle)
            if idle and self.on_drained is not None:
                self.on_drained(idle)  # one release for all of them, while none of their jobs can start
        finally:
            for lock in locked:
                lock.release()

    def draining(self) -> set[str]:
        """The connections being handed off."""
        with self._busy_guard:
            return set(self._draining)

    def _settle(self, name: str) -> None:
        """With the connection's lock held: if it is draining, hand it off now."""
        with self._busy_guard:
            if name not in self._draining:
                return
            self._draining.discard(name)
        if self.on_drained is not None:
            self.on_drained([name])

    @property
    def running(self) -> int:
        """Jobs in progress now."""
        with self._idle:
            return self._running

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for every running job to end; True when none is left."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout=timeout)

    def __call__(self, spec: JobSpec) -> JobStatus:
        """Run `spec` once, if this replica may; return its status; never raises (the scheduler would only log it).

        Returns:
            ok, failed, interrupted, gap (an audit left records missing), or skipped (a stop was asked, or
            another replica holds the lease).
        """
        if self.stop.stopped:
            return JobStatus.SKIPPED
        if not self.keeper.holds(spec.connection) or spec.connection in self.draining():
            log.debug("job skipped", job=spec.id, reason="lease held elsewhere or being handed off")
            return JobStatus.SKIPPED
        with self._idle:
            self._running += 1
        status, error, counts = JobStatus.OK, "", {}
        started_at, started = self.clock.now(), self.clock.monotonic()
        serial = self._connection_lock(spec.connection)
        try:
            # One job at a time per connection: a pull of a connection must not see the records its push is
            # creating before the push has linked them (it would take them for new ones).
            while not serial.acquire(timeout=0.5):
                if self.stop.stopped:
                    raise Interrupted(f"{spec.id}: stopped while waiting for the connection's other job")
            started_at, started = self.clock.now(), self.clock.monotonic()
            try:
                # lost while waiting (the new holder runs it), or being handed off (released below)
                if not self.keeper.holds(spec.connection) or spec.connection in self.draining():
                    status = JobStatus.SKIPPED
                else:
                    counts = self._run(spec)
                    if counts.get("remaining"):
                        status = JobStatus.GAP  # records the service lists are still missing: not a plain ok
            finally:
                try:
                    self._settle(spec.connection)  # the safe point: between this connection's jobs
                finally:
                    serial.release()
        except Interrupted as exc:
            status, error = JobStatus.INTERRUPTED, str(exc)
        except ConnectorError as exc:
            status, error = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug must not kill the scheduler thread; it is logged with its traceback
            status, error = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"
            log.exception("job crashed", job=spec.id)
        finally:
            seconds = self.clock.monotonic() - started
            with self._idle:
                self._running -= 1
                self._idle.notify_all()
        if status != JobStatus.SKIPPED:
            _log_job(spec, status, error, counts, self.replica_id, started_at, self.clock.now(), seconds)
        return status

    def _connection_lock(self, connection: str) -> threading.Lock:
        with self._busy_guard:
            return self._busy.setdefault(connection, threading.Lock())

    def _run(self, spec: JobSpec) -> dict[str, int]:
        # The job stops at its next safe point on SIGTERM, and also once this replica no longer holds the
        # connection's lease (renewals failed or another replica took it over): the new holder works on it now.
        guard = GuardedStop(self.stop, lambda: self.keeper.holds(spec.connection),
                            f"the lease of {spec.connection} is no longer held here")
        app = self.app.stopping_with(guard)
        if spec.kind == "push":
            results = app.push(spec.connection)
            totals = {"planned": 0, "queued": 0, "done": 0, "failed": 0, "unsupported": 0, "requests": 0}
            for result in results:
                totals["planned"] += result.planned
                totals["queued"] += result.queued
                if result.drain is not None:
                    totals["done"] += result.drain.done
                    totals["failed"] += result.drain.failed
                    totals["unsupported"] += result.drain.unsupported
                    totals["requests"] += result.drain.requests
            return totals
        if spec.kind == "audit":
            audit = app.audit(spec.connection)
            return {
                "listed": sum(k.listed for k in audit.kinds),
                "missing": audit.missing,
                "fetched": sum(k.fetched for k in audit.kinds),
                "remaining": audit.remaining,
                "requests": audit.requests,
            }
        streams = [SWEEP_STREAM] if spec.kind == "sweep" else [str(spec.stream)]
        report = app.sync(spec.connection, streams=streams)
        c = report.totals
        return {
            "read": c.read,
            "created": c.created,
            "updated": c.updated,
            "unchanged": c.unchanged,
            "deleted": c.deleted,
            "quarantined": c.quarantined,
            "requests": report.requests,
            **({"reread_resolved": report.refetched.resolved} if report.refetched is not None else {}),
            **({"remaining": sum(a.remaining for a in report.audits)} if report.audits else {}),
        }


def _log_job(
    spec: JobSpec,
    status: str,
    error: str,
    counts: dict[str, Any],
    replica: str,
    started_at: datetime,
    finished_at: datetime,
    seconds: float,
) -> None:
    delay = current_queue_delay()
    if delay is not None:
        counts = {**counts, "queue_seconds": round(delay, 3)}
    level = logging.WARNING if status in (JobStatus.FAILED, JobStatus.GAP) else logging.INFO
    log.log(
        level,
        "job run",
        job=spec.id,
        connection=spec.connection,
        kind=spec.kind,
        status=status,
        replica=replica,
        started_at=started_at,
        finished_at=finished_at,
        seconds=round(seconds, 3),
        **counts,
        **({"error": error} if error else {}),
    )
