"""The backfill: a one-shot pull of history in date-sliced windows, resumable at the window it was in.

A plan ``[since, until)`` cut into windows of one `step` runs stream by stream (the provider's order),
window after window, each through `run_stream` with that explicit window. Each stream's backfill keeps
its own cursor row, stream ``backfill:<stream>``, so the incremental cursor never moves:
``{"plan": {"since", "until", "step_seconds"}, "high_water": end of the last completed window,
"window": [since, until] of the window in progress, "progress": its last committed page's checkpoint}``.
`run_stream` writes ``window`` and ``progress`` with every page and ``high_water`` when the window ends,
so after a kill the same plan resumes in the window it was in, from its last committed page.

A different plan while one is in progress is refused (`PlanInProgress`) unless the caller restarts it;
a completed plan asked again does nothing. Discarding a plan forgets the backfill's position only:
records already stored stay, and replaying them is a no-op.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from connector.clock import Clock
from connector.domain import RunStatus
from connector.errors import ConfigError, ConnectorError, Interrupted
from connector.observability.events import get_logger
from connector.providers.base import Provider, StreamSpec, Window
from connector.store import runs
from connector.sync.engine import MappingSource
from connector.sync.pull.dangling import resolve_dangling_clients
from connector.sync.pull.page import InboundMapper, PageCounts
from connector.sync.pull.stream import PullOptions, StreamReport, run_stream
from connector.sync.references import save_references

__all__ = [
    "KEY_PREFIX",
    "Backfill",
    "BackfillReport",
    "Plan",
    "PlanInProgress",
    "WindowEvent",
    "format_span",
    "parse_span",
    "slice_windows",
]

log = get_logger("connector.sync")
UNTRUSTED_REREADS = 2  # reads of a window whose listing was not trusted, after the first

KEY_PREFIX = "backfill:"
MODE = "backfill"
_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}
_SPAN = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)


def parse_span(text: str) -> timedelta:
    """Read a window length such as ``30d``, ``12h`` or ``2w``.

    Raises:
        ValueError: not a positive whole number followed by h (hours), d (days) or w (weeks).
    """
    match = _SPAN.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a window length: use a positive number and a unit h, d or w (e.g. 30d)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])


def format_span(span: timedelta) -> str:
    """Write a window length the way `parse_span` reads it (``30d``); odd lengths in seconds (``90s``)."""
    seconds = int(span.total_seconds())
    for unit in ("w", "d", "h"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def slice_windows(since: datetime, until: datetime, step: timedelta) -> list[Window]:
    """Cut ``[since, until)`` into consecutive windows of `step` (the last one shorter).

    Consecutive windows share their boundary instant; a record on it is read twice and stored once.

    Raises:
        ValueError: `until` not after `since`, or a step that is not positive.
    """
    if step <= timedelta(0):
        raise ValueError("the window length must be positive")
    if until <= since:
        raise ValueError(f"until ({until.isoformat()}) must be after since ({since.isoformat()})")
    windows, start = [], since
    while start < until:
        end = min(start + step, until)
        windows.append(Window(start, end))
        start = end
    return windows


@dataclass(frozen=True, slots=True)
class Plan:
    """What a backfill of one stream covers: ``[since, until)`` in windows of `step` (UTC instants)."""

    since: datetime
    until: datetime
    step: timedelta

    def windows(self) -> list[Window]:
        """The plan's windows, in order."""
        return slice_windows(self.since, self.until, self.step)

    def to_json(self) -> dict[str, Any]:
        """The plan as stored in the cursor row."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "step_seconds": int(self.step.total_seconds()),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """Read a stored plan back."""
        return cls(
            _utc(datetime.fromisoformat(data["since"])),
            _utc(datetime.fromisoformat(data["until"])),
            timedelta(seconds=int(data["step_seconds"])),
        )

    def describe(self) -> str:
        """The plan as command-line options."""
        return f"--since {self.since.isoformat()} --until {self.until.isoformat()} --window {format_span(self.step)}"


class PlanInProgress(ConfigError):
    """Another plan of this stream's backfill is in progress; names it and how to resume or discard it."""

    def __init__(self, connection: str, stream: str, plan: Plan, done: int) -> None:
        self.plan = plan
        super().__init__(
            f"connection '{connection}'",
            f"backfill of {stream}",
            f"another plan is in progress ({plan.describe()}, {done} of {len(plan.windows())} windows done); "
            "run it again with those options to resume it, or add --restart to discard it",
        )


@dataclass(slots=True)
class _StreamPlan:
    spec: StreamSpec
    plan: Plan
    windows: list[Window]
    start: int  # index of the first window still to run
    checkpoint: bool  # the start window resumes from a committed page


@dataclass(slots=True)
class WindowEvent:
    """A window starting (`finished` None) or finished, for progress displays."""

    stream: str
    number: int  # 1-based, over every stream of the backfill
    total: int
    window: Window
    finished: StreamReport | None = None


@dataclass(slots=True)
class BackfillReport:
    """What a backfill did (this invocation) and where it stands (overall)."""

    connection: str
    plans: dict[str, Plan] = field(default_factory=dict)
    windows_total: int = 0
    windows_done: int = 0  # completed overall, before this invocation included
    windows_run: int = 0  # completed by this invocation
    resumed: dict[str, tuple[int, bool]] = field(default_factory=dict)  # stream -> (1-based window, from a page)
    complete: list[str] = field(default_factory=list)  # streams whose same plan had already completed
    counts: PageCounts = field(default_factory=PageCounts)
    requests: int = 0  # every request of this invocation
    window_requests: int = 0  # requests of the windows completed by this invocation
    resolved_refs: int = 0
    runs: list[StreamReport] = field(default_factory=list)
    current: tuple[str, int, Window] | None = None  # stream, 1-based number and window in hand
    status: RunStatus = RunStatus.RUNNING
    error: str | None = None


class Backfill:
    """Runs (or resumes) one connection's backfill plan over its windowed streams."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        connection: str,
        provider: Provider,
        mapping: MappingSource,
        *,
        since: datetime,
        until: datetime | None,
        step: timedelta,
        options: PullOptions,
        streams: Sequence[str] | None = None,
        restart: bool = False,
        on_window: Callable[[WindowEvent, BackfillReport], None] | None = None,
    ) -> None:
        """Args: engine: the migrated store. clock: time source. connection: its name. provider,
        mapping: the connection's adapter and (unbound) mapping. since, until: the range (UTC; until None:
        a plan in progress with this since and step keeps its until, else the service's clock minus the
        safety lag). step: the window length. options: the connection's pull options (stop token
        included). streams: windowed streams to backfill (default: all of them). restart: discard a
        plan in progress (or a completed one) and start over. on_window: called as each window starts
        and finishes."""
        self.engine = engine
        self.clock = clock
        self.connection = connection
        self.provider = provider
        self.mapping = mapping
        self.since, self.until, self.step = _utc(since), _utc(until) if until else None, step
        self.options = options
        self.streams = list(streams or ())
        self.restart = restart
        self.on_window = on_window
        self.report = BackfillReport(connection)
        self._requests_before = provider.requests_made

    def run(self) -> BackfillReport:
        """Plan (refusing a conflicting plan before any window), then run every window still to do.

        Returns:
            The report; also kept in `self.report`, so a caller sees the counts so far when this raises.

        Raises:
            ConfigError: a stream that is not windowed, a bad range, or `PlanInProgress`.
            ConnectorError: a window failed (`Interrupted` on a stop); its run row says so and the same
                plan resumes from its last committed page.
        """
        report = self.report
        started = self.clock.monotonic()
        self._requests_before = self.provider.requests_made
        try:
            plans = self._plan()
            if any(p.start < len(p.windows) for p in plans):
                mapper = self._bind()
                self._run_windows(plans, mapper)
                with self.engine.begin() as conn:
                    report.resolved_refs = resolve_dangling_clients(conn, self.connection, mapper)
            report.current = None
            report.status = RunStatus.OK
        except Exception as exc:
            report.status = RunStatus.INTERRUPTED if isinstance(exc, Interrupted) else RunStatus.FAILED
            report.error = str(exc)
            raise
        finally:
            report.requests = self.provider.requests_made - self._requests_before
            log.info(
                "backfill", connection=self.connection, status=report.status, windows_done=report.windows_done,
                windows_total=report.windows_total, windows_run=report.windows_run, read=report.counts.read,
                created=report.counts.created, updated=report.counts.updated, unchanged=report.counts.unchanged,
                quarantined=report.counts.quarantined, requests=report.requests,
                seconds=round(self.clock.monotonic() - started, 2),
            )
        return report

    # -- planning ----------------------------------------------------------------------------------

    def _specs(self) -> list[StreamSpec]:
        windowed = [s for s in self.provider.streams() if s.windowed]
        names = [s.name for s in windowed]
        where = f"connection '{self.connection}'"
        if not windowed:
            raise ConfigError(where, "stream", f"{self.provider.id} has no windowed stream to backfill")
        for name in self.streams:
            if name not in names:
                raise ConfigError(where, "stream", f"{name!r} cannot be backfilled; windowed streams: {names}")
        return [s for s in windowed if not self.streams or s.name in self.streams]

    def _plan(self) -> list[_StreamPlan]:
        """Resolve each stream's plan against its stored one; write the new plans; raise before any window."""
        specs = self._specs()
        stored = {s.name: runs.load_cursor(self.engine, self.connection, KEY_PREFIX + s.name) for s in specs}
        service_until: datetime | None = None
        plans: list[_StreamPlan] = []
        for spec in specs:
            state = stored[spec.name]
            old = Plan.from_json(state["plan"]) if state.get("plan") else None
            until = self.until
            if until is None and old and (old.since, old.step) == (self.since, self.step):
                until = old.until
            if until is None:
                service_until = service_until or self._service_until()
                until = service_until
            try:
                plan = Plan(self.since, until, self.step)
                windows = plan.windows()
            except ValueError as exc:
                raise ConfigError(f"connection '{self.connection}'", "backfill", str(exc)) from exc
            if old is not None and not self.restart:
                done = _windows_done(old, state)
                if old == plan:
                    plans.append(_resume(spec, plan, windows, state))
                    continue
                if done < len(old.windows()):
                    raise PlanInProgress(self.connection, spec.name, old, done)
            plans.append(_StreamPlan(spec, plan, windows, 0, False))
        with self.engine.begin() as conn:  # nothing ran yet: write the fresh plans together
            for p in plans:
                if p.start == 0 and not p.checkpoint:
                    runs.save_cursor(
                        conn, self.connection, KEY_PREFIX + p.spec.name, {"plan": p.plan.to_json()}, self.clock.now()
                    )
        report = self.report
        for p in plans:
            report.plans[p.spec.name] = p.plan
            report.windows_total += len(p.windows)
            report.windows_done += p.start
            if p.start == len(p.windows):
                report.complete.append(p.spec.name)
            elif p.start or p.checkpoint:
                report.resumed[p.spec.name] = (p.start + 1, p.checkpoint)
        return plans

    def _service_until(self) -> datetime:
        now = self.provider.server_now()
        if now is None:
            raise ConnectorError(f"{self.provider.id}: the service did not tell its time (no Date header)")
        return _utc(now - self.options.safety_lag)

    def _bind(self) -> InboundMapper:
        """Bind the mapping to the service's reference lists (and keep them, as a sync does)."""
        references = self.provider.reference_data(set(self.mapping.references_needed))
        with self.engine.begin() as conn:
            save_references(conn, self.connection, references, self.clock.now())
        bound: InboundMapper = self.mapping.bind(references)
        return bound

    # -- running -----------------------------------------------------------------------------------

    def _run_windows(self, plans: list[_StreamPlan], mapper: InboundMapper) -> None:
        report = self.report
        number = 0
        for p in plans:
            number += p.start
            for window in p.windows[p.start :]:
                number += 1
                report.current = (p.spec.name, number, window)
                self._notify(WindowEvent(p.spec.name, number, report.windows_total, window))
                stream_report = self._run_window(p.spec, window, mapper)
                report.counts.add(stream_report.counts)
                report.windows_done += 1
                report.windows_run += 1
                report.window_requests += stream_report.requests
                report.requests = self.provider.requests_made - self._requests_before
                self._notify(WindowEvent(p.spec.name, number, report.windows_total, window, stream_report))

    def _run_window(self, spec: StreamSpec, window: Window, mapper: InboundMapper) -> StreamReport:
        """Pull one window; a listing the provider does not trust (`StreamReport.untrusted`: it moved past
        recovery while read) left the cursor before the window, so it is read again, at most `UNTRUSTED_REREADS`
        times, and the backfill stops there rather than move past a window it may have read with gaps."""
        for attempt in range(1 + UNTRUSTED_REREADS):
            stream_report = run_stream(
                self.engine, self.provider, mapper, self.connection, spec, full=False, clock=self.clock,
                options=self.options, window=window, key=KEY_PREFIX + spec.name, mode=MODE,
            )
            self.report.runs.append(stream_report)
            if not stream_report.untrusted:
                return stream_report
            log.warning("backfill window not trusted", stream=spec.name, since=window.since, until=window.until,
                        reason=stream_report.untrusted, read=attempt + 1, reads=1 + UNTRUSTED_REREADS)
        raise ConnectorError(f"backfill {spec.name}: the listing of the window {window.since}..{window.until} moved "
                             f"in {1 + UNTRUSTED_REREADS} reads ({stream_report.untrusted}); run the backfill again")

    def _notify(self, event: WindowEvent) -> None:
        if self.on_window is not None:
            self.on_window(event, self.report)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _windows_done(plan: Plan, state: dict[str, Any]) -> int:
    """How many of the plan's windows completed: those ending at or before the stored high water."""
    high_water = state.get("high_water")
    if not high_water:
        return 0
    mark = _utc(datetime.fromisoformat(high_water))
    return sum(1 for w in plan.windows() if w.until is not None and w.until <= mark)


def _resume(spec: StreamSpec, plan: Plan, windows: list[Window], state: dict[str, Any]) -> _StreamPlan:
    """Where the same plan picks up: the window in progress (from its page), else after the last done."""
    in_progress = state.get("window")
    if in_progress and state.get("progress"):
        for index, window in enumerate(windows):
            if [_iso(window.since), _iso(window.until)] == in_progress:
                return _StreamPlan(spec, plan, windows, index, True)
    return _StreamPlan(spec, plan, windows, _windows_done(plan, state), False)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
