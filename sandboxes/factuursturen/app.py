"""`FactuurSturenSandbox`: the server, the request pipeline (rate limit, auth, faults, log) and the controls."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import date
from typing import Any

from sandboxes._control import Controls, FaultRule, RateLimiter, SandboxClock, apply_fault
from sandboxes._lifecycle import CONTROL_PREFIX, SandboxApp
from sandboxes._quirks import QuirkSet
from sandboxes._server import Request, Response
from sandboxes.factuursturen.control import ServiceControls
from sandboxes.factuursturen.errors import FsError, error_response
from sandboxes.factuursturen.quirks import QUIRKS
from sandboxes.factuursturen.routes import API_PREFIX, ApiRoutes, paging
from sandboxes.factuursturen.state import FactuurSturenState

__all__ = ["CONTROL_PREFIX", "FactuurSturenSandbox"]

NOMINAL_LIMIT = 250


class FactuurSturenSandbox(SandboxApp):
    """A FactuurSturen.nl API v1 simulator on 127.0.0.1 (see the package docstring for its fidelity)."""

    api_prefix = API_PREFIX
    declared_quirks = QUIRKS

    def __init__(self, port: int = 0, username: str = "demo", api_key: str = "fs_test_key", seed: int = 42,
                 clients: int = 0, invoices: int = 0, lines_per_invoice: int = 3, rate_limit: int | None = 250,
                 rate_window_seconds: float = 3600, start_date: str | date | None = None,
                 end_date: str | date | None = None, quirks: Mapping[str, Any] | None = None) -> None:
        """Build the sandbox (seeding now when `clients` or `invoices` is non-zero); `start` serves it.

        Args:
            port: TCP port on 127.0.0.1; 0 picks a free one.
            username: the account's user name (HTTP Basic user).
            api_key: the account's API key (HTTP Basic password).
            seed: seed of the generated data.
            clients: generated clients (0 with invoices > 0: one per ten invoices).
            invoices: generated sent invoices.
            lines_per_invoice: lines on each generated invoice.
            rate_limit: requests per window and user name; None or 0 disables the limit.
            rate_window_seconds: length of a fixed rate window (aligned to the sandbox clock).
            start_date: first sent date of generated invoices (default: three years before end_date).
            end_date: last sent date (default: yesterday on the sandbox clock).
            quirks: quirk switches to start with (`quirks.QUIRKS`), e.g. ``{"count_cap": 100}``.
        """
        self.username = username
        self.api_key = api_key
        self.clock = SandboxClock("Europe/Amsterdam")
        self.state = FactuurSturenState(self.clock)
        self.limiter = RateLimiter(rate_limit, rate_window_seconds, nominal=rate_limit or NOMINAL_LIMIT)
        self.controls = Controls(self.clock, self.limiter, QuirkSet(QUIRKS, quirks))
        self.api = ApiRoutes(self.state, self.controls.quirks)
        self._mount(ServiceControls(self.state, self.controls), port)
        if clients or invoices:
            self.seed(seed=seed, clients=clients or None, invoices=invoices, lines_per_invoice=lines_per_invoice,
                      start_date=str(start_date) if start_date else None, end_date=str(end_date) if end_date else None)

    # -- public surface (start/stop/with/port/base_url/control_url/seed/reset: `SandboxApp`) ---------

    @property
    def credentials(self) -> dict[str, str]:
        """``{"username": ..., "api_key": ...}``."""
        return {"username": self.username, "api_key": self.api_key}

    # -- pipeline ------------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Answer one request: control routes directly, API requests through the service pipeline."""
        if request.raw_path.startswith(CONTROL_PREFIX):
            response = self._control(request)
            response.headers.append(("Date", self.clock.http_date()))
            return response
        user, key = _basic(request.header("Authorization"))
        arrived = self.clock.time()  # the log says when the request was counted, not when it was answered
        decision = self.limiter.hit(user or "", arrived)
        remaining = decision.remaining
        if not decision.allowed:
            response = error_response(403, f"Rate limit exceeded: {decision.limit} requests per hour")
        elif user != self.username or key != self.api_key:
            response = error_response(401, "Unauthorized: invalid username or API key")
            response.headers.append(("WWW-Authenticate", 'Basic realm="FactuurSturen.nl API"'))
        else:
            rule = self.controls.faults.take(request.method, request.raw_path, lambda r: self._applies(r, request))
            if rule is not None and rule.kind == "page_shift":
                self._shift(request)
            if rule is not None and rule.kind == "storm":
                remaining = 0
            response = apply_fault(rule, lambda: self._perform(request), error_response, self.controls.sleep)
        response.headers += [("X-RateLimit-Limit", str(decision.limit)), ("X-RateLimit-Remaining", str(remaining)),
                             ("Date", self.clock.http_date())]
        self.controls.log.append(request.method, request.raw_path, request.raw_query,
                                 0 if response.drop else response.status, arrived)
        return response

    def _perform(self, request: Request) -> Response:
        try:
            return self.api.handle(request)
        except FsError as exc:
            return exc.response()

    @staticmethod
    def _applies(rule: FaultRule, request: Request) -> bool:
        """A page_shift only fires on a list request past its first page."""
        if rule.kind != "page_shift":
            return True
        kind = request.raw_path[len(API_PREFIX):].strip("/")
        return request.method == "GET" and kind in ("invoices", "clients") and (request.arg("start") or "0") != "0"

    def _shift(self, request: Request) -> None:
        """Delete the record just before this page, so everything after it moves one place forward."""
        try:
            start, _ = paging(request)
        except FsError:
            return
        state = self.state
        with state.lock:
            if request.raw_path.rstrip("/").endswith("invoices"):
                try:
                    listing = state.invoice_listing(request.arg("filter") or None, request.arg("since"),
                                                    request.arg("until"))
                except FsError:
                    return
                if 0 < start <= len(listing):
                    state.delete_invoice(listing[start - 1].id)
                return
            for client in reversed(state.client_page(0, start)):
                try:
                    state.delete_client(client.clientnr)
                    return
                except FsError:
                    continue


def _basic(header: str | None) -> tuple[str | None, str | None]:
    """(user, password) from an HTTP Basic ``Authorization`` header, or (None, None)."""
    if not header or header[:6].lower() != "basic ":
        return None, None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return user, password
