"""`TimedPool`: APScheduler's thread pool executor of a fixed size that reports each job's queue delay.

The delay is the time from the run's due time (the earliest one, when missed runs are coalesced) to the moment a
pool thread picks it up: how far the pool lags behind the schedule. The pool never grows with the number of
connections; jobs wait in its queue instead, and this delay says how long.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor

__all__ = ["TimedPool", "current_queue_delay"]

_local = threading.local()


def current_queue_delay() -> float | None:
    """The queue delay of the job running in this thread (None outside a `TimedPool` job)."""
    return getattr(_local, "delay", None)


class TimedPool(ThreadPoolExecutor):
    """A thread pool of `workers` threads calling `on_start(job_id, delay_seconds)` as each job starts.

    Args:
        workers: pool size, fixed.
        on_start: told the queue delay of every job as it starts (must not raise; errors are swallowed).
        now: time source for the start (UTC).
    """

    def __init__(
        self,
        workers: int,
        on_start: Callable[[str, float], None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Threads are started as jobs arrive, never more than `workers`."""
        super().__init__(workers, pool_kwargs={"thread_name_prefix": "job"})
        self.on_start = on_start
        self.now = now

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        due = min(run_times)

        def timed(*args: Any) -> Any:
            delay = max(0.0, (self.now() - due).total_seconds())
            _local.delay = delay
            try:
                self.on_start(job.id, delay)
            except Exception:  # a metrics failure must not cost the run
                self._logger.warning("queue delay hook failed job=%s", job.id, exc_info=True)
            try:
                return run_job(*args)
            finally:
                _local.delay = None

        def callback(future: Any) -> None:
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, getattr(exc, "__traceback__", None))
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(timed, job, job._jobstore_alias, run_times, self._logger.name)
        future.add_done_callback(callback)
