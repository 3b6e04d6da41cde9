"""Control-surface parts every sandbox reuses: a settable clock, fault rules, a request log, a rate limiter.

`Controls.register` mounts the generic routes (all JSON in and out, no auth) under a prefix:

    GET|POST   {prefix}/clock       {"now": ISO 8601} | {"advance_seconds": n} | {"frozen": bool} -> clock
    GET|POST   {prefix}/faults      {"rules": [rule, ...]} replaces the rules; DELETE clears them and ends
                                    every wait a fault holds now (a test holds an answer, acts, then lets go)
    GET|POST   {prefix}/ratelimit   {"limit": n | null, "window_seconds": s, "phase_seconds": p}
    GET|DELETE {prefix}/requests    the request log [{"method","path","query","status","t"}]
    GET|POST|DELETE {prefix}/quirks {"name": value, ...} sets quirk switches (`_quirks`); DELETE: back to start

A fault rule fires on requests matching its optional `method` and `path_prefix`: it lets the first
`after` matches pass, then fires on every `every`-th match until it has fired `times` times
(`times: null` = without end). Rules are tried in order and the first that fires wins; later rules do
not see that request.
"""

from __future__ import annotations

import json
import threading
import time as _time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from email.utils import formatdate
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sandboxes._quirks import QuirkSet
from sandboxes._server import Request, Response, Router, json_response

__all__ = ["FAULT_KINDS", "Controls", "FaultRegistry", "FaultRule", "RateDecision", "RateLimiter",
           "RequestLog", "SandboxClock", "apply_fault", "read_json"]

FAULT_KINDS = frozenset({"status", "timeout", "slow", "storm", "drop_after_commit", "html", "truncated_json",
                         "page_shift"})


class SandboxClock:
    """Real time plus an offset (or frozen), in the service's own time zone."""

    def __init__(self, zone: str = "UTC") -> None:
        """Args: zone: IANA name used for local dates and times."""
        self.zone = ZoneInfo(zone)
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch on the sandbox clock."""
        frozen = self._frozen_at
        return frozen if frozen is not None else _time.time() + self._offset

    def now(self) -> datetime:
        """The current time in the service's zone (aware)."""
        return datetime.fromtimestamp(self.time(), self.zone)

    def today(self) -> date:
        """The local date in the service's zone."""
        return self.now().date()

    def http_date(self) -> str:
        """The current time as an RFC 7231 ``Date`` header value."""
        return formatdate(self.time(), usegmt=True)

    def set(self, when: datetime) -> None:
        """Jump to `when` (a naive value is read in the service's zone)."""
        target = (when if when.tzinfo else when.replace(tzinfo=self.zone)).timestamp()
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - _time.time()

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, when negative)."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def freeze(self, frozen: bool) -> None:
        """Stop the clock where it is, or let it run on from there."""
        with self._lock:
            if frozen and self._frozen_at is None:
                self._frozen_at = _time.time() + self._offset
            elif not frozen and self._frozen_at is not None:
                self._offset = self._frozen_at - _time.time()
                self._frozen_at = None

    def reset(self) -> None:
        """Back to real time, running."""
        with self._lock:
            self._offset, self._frozen_at = 0.0, None

    def describe(self) -> dict[str, Any]:
        """JSON view: local ISO time, epoch seconds, frozen flag, offset from real time."""
        t = self.time()
        return {"now": datetime.fromtimestamp(t, self.zone).isoformat(timespec="seconds"), "epoch": t,
                "zone": str(self.zone), "frozen": self._frozen_at is not None,
                "offset_seconds": round(t - _time.time(), 3) + 0.0}


@dataclass
class FaultRule:
    """One fault: what to do (`kind`), on which requests, and how often."""

    kind: str
    times: int | None = 1
    every: int = 1
    after: int = 0
    method: str | None = None
    path_prefix: str | None = None
    status: int | None = None
    seconds: float = 0.0
    retry_after: int | None = None
    body: str | None = None
    seen: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from its JSON form.

        Raises:
            ValueError: an unknown kind or key, or a bad value.
        """
        known = {f.name for f in fields(cls)} - {"seen", "fired"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault keys {sorted(unknown)}; known: {sorted(known)}")
        if data.get("kind") not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {data.get('kind')!r}; known: {sorted(FAULT_KINDS)}")
        rule = cls(**dict(data))
        if rule.every < 1 or rule.after < 0 or (rule.times is not None and rule.times < 0):
            raise ValueError("every must be >= 1, after and times >= 0")
        if rule.method:
            rule.method = rule.method.upper()
        return rule

    def matches(self, method: str, path: str) -> bool:
        """Does this rule apply to the request (ignoring its counters)?"""
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix))


class FaultRegistry:
    """The active fault rules; `take` decides (thread-safely) whether one fires for a request."""

    def __init__(self) -> None:
        """Start without rules."""
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def replace(self, rules: list[FaultRule]) -> None:
        """Install new rules (counters start at zero)."""
        with self._lock:
            self._rules = list(rules)

    def describe(self) -> list[dict[str, Any]]:
        """The rules with their counters, as JSON."""
        with self._lock:
            return [asdict(rule) for rule in self._rules]

    def take(self, method: str, path: str, applies: Callable[[FaultRule], bool] | None = None) -> FaultRule | None:
        """Return the rule that fires for this request, counting it, or None.

        Args:
            method: the request method.
            path: the raw request path (no query).
            applies: lets the service skip a rule for this request without counting it (e.g. a
                `page_shift` only applies to a list request past its first page).
        """
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                spent = rule.times is not None and rule.fired >= rule.times
                if spent or not rule.matches(method, path) or (applies and not applies(rule)):
                    continue
                rule.seen += 1
                if rule.seen > rule.after and (rule.seen - rule.after - 1) % rule.every == 0:
                    rule.fired += 1
                    return rule
        return None


def apply_fault(rule: FaultRule | None, perform: Callable[[], Response], error: Callable[[int, str], Response],
                sleep: Callable[[float], object]) -> Response:
    """Answer a request through a fault (or normally when `rule` is None).

    `page_shift` is service-specific: the service shifts its listing first, then calls this, which
    simply performs the request.

    Args:
        rule: the fault that fired, if any.
        perform: runs the real handler (and its writes).
        error: builds the service's own error answer from a status and a message.
        sleep: waits for real (interruptible by server shutdown).
    """
    if rule is None or rule.kind == "page_shift":
        return perform()
    kind = rule.kind
    if kind == "status":
        return error(rule.status or 500, rule.body or "Internal Server Error")
    if kind == "storm":
        status = rule.status or 403
        response = error(status, rule.body or "Rate limit exceeded")
        if status == 429:
            response.headers.append(("Retry-After", str(rule.retry_after if rule.retry_after is not None else 1)))
        return response
    if kind == "timeout":
        sleep(rule.seconds)
        return Response(drop=True)
    if kind == "slow":
        sleep(rule.seconds)
        return perform()
    if kind == "drop_after_commit":
        perform()
        return Response(drop=True)
    if kind == "html":
        body = rule.body or "<html><head><title>Onderhoud</title></head><body><h1>We zijn zo terug</h1></body></html>"
        return Response(rule.status or 200, body.encode(), "text/html; charset=UTF-8")
    response = perform()  # truncated_json: a complete HTTP answer whose body is cut in half
    response.body = response.body[: max(1, len(response.body) // 2)]
    return response


class RequestLog:
    """An append-only log of service requests (bounded), cheap enough for benchmarks."""

    def __init__(self, maxlen: int = 1_000_000) -> None:
        """Args: maxlen: oldest entries fall off beyond this many."""
        self._entries: deque[tuple[str, str, str, int, float]] = deque(maxlen=maxlen)

    def append(self, method: str, path: str, query: str, status: int, t: float) -> None:
        """Record one request (status 0: answered with no response at all)."""
        self._entries.append((method, path, query, status, t))

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def describe(self) -> list[dict[str, Any]]:
        """The log as JSON objects, oldest first."""
        return [{"method": m, "path": p, "query": q, "status": s, "t": t} for m, p, q, s, t in list(self._entries)]


class RateDecision(NamedTuple):
    """Outcome of counting one request: allowed?, the limit to advertise, what remains."""

    allowed: bool
    limit: int
    remaining: int


class RateLimiter:
    """Fixed windows aligned to epoch multiples of the window length (moved on by `phase_seconds`), per key.

    A phase lets a test start the windows where nothing the client sees (the ``Date`` header's whole
    seconds, the epoch) gives their boundary away, as a service that does not document its windows may.
    """

    def __init__(self, limit: int | None, window_seconds: float, nominal: int) -> None:
        """Args: limit: requests per window (None or 0: unlimited). nominal: advertised when unlimited."""
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}
        self._start_nominal = self.nominal = nominal
        self.limit: int | None = None
        self.window_seconds = 3600.0
        self.phase_seconds = 0.0
        self.configure(limit, window_seconds)

    def configure(self, limit: int | None, window_seconds: float | None = None, phase_seconds: float = 0.0) -> None:
        """Change the budget (counters restart); windows start at epoch multiples plus `phase_seconds`."""
        if window_seconds is not None and window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0 or null")
        with self._lock:
            self.limit = limit or None
            # advertised while unlimited: the last limit set, or the start value once the limit is switched off
            # (a limit a test set must not outlive it through the headers of an unlimited sandbox)
            self.nominal = limit if limit else self._start_nominal
            if window_seconds is not None:
                self.window_seconds = float(window_seconds)
            self.phase_seconds = float(phase_seconds)
            self._counts.clear()

    def reset(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._counts.clear()

    def hit(self, key: str, now: float) -> RateDecision:
        """Count one request for `key` at epoch time `now`."""
        limit = self.limit
        if limit is None:
            return RateDecision(True, self.nominal, self.nominal)
        window = int((now - self.phase_seconds) // self.window_seconds)
        with self._lock:
            current, count = self._counts.get(key, (window, 0))
            count = count + 1 if current == window else 1
            self._counts[key] = (window, count)
        return RateDecision(count <= limit, limit, max(0, limit - count))

    def describe(self) -> dict[str, Any]:
        """JSON view of the configuration."""
        return {"limit": self.limit, "window_seconds": self.window_seconds, "phase_seconds": self.phase_seconds,
                "nominal": self.nominal}


def read_json(request: Request) -> dict[str, Any]:
    """The JSON object body of a control request (empty body: ``{}``).

    Raises:
        ValueError: not a JSON object.
    """
    if not request.body.strip():
        return {}
    value = json.loads(request.body)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


class Controls:
    """Clock, faults, request log and rate limiter of one sandbox, with their control routes."""

    def __init__(self, clock: SandboxClock, limiter: RateLimiter, quirks: QuirkSet | None = None) -> None:
        """Args: clock: the sandbox clock. limiter: the service's rate limiter. quirks: its quirk switches."""
        self.clock = clock
        self.limiter = limiter
        self.quirks = quirks or QuirkSet(())
        self.faults = FaultRegistry()
        self.log = RequestLog()
        self.stopping = threading.Event()
        self._released = threading.Condition()
        self._releases = 0  # counts DELETE /faults: a wait that began before the last one is over

    def reset(self) -> None:
        """No faults, an empty log, fresh rate counters, the clock back to real time, quirks as started."""
        self.quirks.reset()
        self.faults.replace([])
        self.log.clear()
        self.limiter.reset()
        self.clock.reset()

    def sleep(self, seconds: float) -> None:
        """Wait for real, but return early when the server stops or the faults are cleared (`release`)."""
        deadline = _time.monotonic() + max(0.0, seconds)
        with self._released:
            began = self._releases
            while self._releases == began and not self.stopping.is_set():
                left = deadline - _time.monotonic()
                if left <= 0:
                    return
                self._released.wait(min(left, 0.05))  # (0.05: also notice `stopping`, an Event of its own)

    def release(self) -> None:
        """End every wait a fault is holding now."""
        with self._released:
            self._releases += 1
            self._released.notify_all()

    def register(self, router: Router, prefix: str = "/_sandbox") -> None:
        """Mount the generic control routes under `prefix`."""
        for path, handler, methods in (("/clock", self._clock, "GET POST"),
                                       ("/faults", self._faults, "GET POST DELETE"),
                                       ("/ratelimit", self._ratelimit, "GET POST"),
                                       ("/requests", self._requests, "GET DELETE"),
                                       ("/quirks", self._quirks, "GET POST DELETE")):
            for method in methods.split():
                router.add(method, prefix + path, _guarded(handler))

    def _clock(self, request: Request) -> Response:
        body = read_json(request)
        if "now" in body:
            self.clock.set(datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00")))
        if "advance_seconds" in body:
            self.clock.advance(float(body["advance_seconds"]))
        if "frozen" in body:
            self.clock.freeze(bool(body["frozen"]))
        return json_response(self.clock.describe())

    def _faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.replace([])
            self.release()
        elif request.method == "POST":
            body = read_json(request)
            raw = body.get("rules", [])
            if not isinstance(raw, list):
                raise ValueError("rules must be a list")
            self.faults.replace([FaultRule.from_json(item) for item in raw])
        return json_response({"rules": self.faults.describe()})

    def _ratelimit(self, request: Request) -> Response:
        if request.method == "POST":
            body = read_json(request)
            limit = body.get("limit", self.limiter.limit)
            window = body.get("window_seconds")
            self.limiter.configure(None if limit is None else int(limit), None if window is None else float(window),
                                   float(body.get("phase_seconds", 0.0)))
        return json_response(self.limiter.describe())

    def _quirks(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.quirks.reset()
        elif request.method == "POST":
            self.quirks.set(read_json(request))
        return json_response({"quirks": self.quirks.describe()})

    def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.log.clear()
            return json_response({"cleared": True})
        return json_response(self.log.describe())


def _guarded(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Turn bad control input into a JSON 400 instead of a server error."""

    def run(request: Request) -> Response:
        try:
            return handler(request)
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)

    return run
