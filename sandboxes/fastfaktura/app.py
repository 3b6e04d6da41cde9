"""`FastFakturaSandbox`: the server, the request pipeline (rate limit, auth, faults, log) and the controls."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from sandboxes._control import Controls, FaultRule, RateLimiter, SandboxClock, apply_fault
from sandboxes._lifecycle import CONTROL_PREFIX, SandboxApp
from sandboxes._quirks import QuirkSet
from sandboxes._server import Request, Response
from sandboxes.fastfaktura.control import ServiceControls
from sandboxes.fastfaktura.errors import ApiError, NotFound, Unprocessable, error_body, error_response
from sandboxes.fastfaktura.inputs import new_invoice
from sandboxes.fastfaktura.quirks import QUIRKS
from sandboxes.fastfaktura.routes import API_PREFIX, PER_PAGE, ApiRoutes, archived_arg, page_number
from sandboxes.fastfaktura.state import FastFakturaState

__all__ = ["CONTROL_PREFIX", "VIEWER_PREFIX", "FastFakturaSandbox"]

VIEWER_PREFIX = "/i/"
NOMINAL_LIMIT = 120


class FastFakturaSandbox(SandboxApp):
    """A FastFaktura API v1 simulator on 127.0.0.1 (see the package docstring for its fidelity)."""

    api_prefix = API_PREFIX
    declared_quirks = QUIRKS

    def __init__(self, port: int = 0, seed: int = 42, clients: int = 0, invoices: int = 0, lines_per_invoice: int = 3,
                 api_key: str = "ffk_test_key", rate_limit: int | None = 120, rate_window_seconds: float = 60,
                 start_date: str | date | None = None, end_date: str | date | None = None,
                 quirks: Mapping[str, Any] | None = None) -> None:
        """Build the sandbox (seeding now when `clients` or `invoices` is non-zero); `start` serves it.

        Args:
            port: TCP port on 127.0.0.1; 0 picks a free one.
            seed: seed of the generated data.
            clients: generated clients (0 with invoices > 0: one per ten invoices).
            invoices: generated invoices.
            lines_per_invoice: lines on each generated invoice.
            api_key: the account's API key (``X-Api-Key`` or ``Authorization: Bearer``).
            rate_limit: requests per window and key; None or 0 disables the limit.
            rate_window_seconds: length of a fixed rate window (aligned to the sandbox clock).
            start_date: first creation date of generated invoices (default: three years before end_date).
            end_date: last date of generated events (default: yesterday on the sandbox clock).
            quirks: quirk switches to start with (`quirks.QUIRKS`), e.g. ``{"per_page": 10}``.
        """
        self.api_key = api_key
        self.clock = SandboxClock("UTC")
        self.state = FastFakturaState(self.clock)
        self.limiter = RateLimiter(rate_limit, rate_window_seconds, nominal=rate_limit or NOMINAL_LIMIT)
        self.controls = Controls(self.clock, self.limiter, QuirkSet(QUIRKS, quirks))
        self.api = ApiRoutes(self.state, self.controls.quirks)
        self._mount(ServiceControls(self.state, self.controls), port)
        if clients or invoices:
            self.seed(seed=seed, clients=clients or None, invoices=invoices, lines_per_invoice=lines_per_invoice,
                      start_date=str(start_date) if start_date else None, end_date=str(end_date) if end_date else None)

    # -- public surface (start/stop/with/port/base_url/control_url/seed/reset: `SandboxApp`) ---------

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (the invoice viewer lives at ``{origin}/i/{token}``)."""
        return self._server.origin

    @property
    def credentials(self) -> dict[str, str]:
        """``{"api_key": ...}``."""
        return {"api_key": self.api_key}

    # -- pipeline ------------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Answer one request: control routes and the invoice viewer directly, the API through the pipeline."""
        if request.raw_path.startswith(CONTROL_PREFIX):
            response = self._control(request)
        elif request.raw_path.startswith(VIEWER_PREFIX) and request.method == "GET":
            response = self._view(request.raw_path[len(VIEWER_PREFIX):].strip("/"))
        else:
            response = self._api(request)
            self.controls.log.append(request.method, request.raw_path, request.raw_query,
                                     0 if response.drop else response.status, self.clock.time())
        response.headers.append(("Date", self.clock.http_date()))
        return response

    def _api(self, request: Request) -> Response:
        key = _api_key(request)
        now = self.clock.time()
        decision = self.limiter.hit(key or "", now)
        if not decision.allowed:
            window = self.limiter.window_seconds
            wait = max(1, math.ceil((math.floor(now / window) + 1) * window - now))
            response = error_response(429, f"Rate limit exceeded: {decision.limit} requests per "
                                           f"{window:g} seconds")
            response.headers.append(("Retry-After", str(wait)))
            return response
        if key != self.api_key:
            response = Response(401, error_body("unauthorized", "Missing or invalid API key"), "application/json")
            response.headers.append(("WWW-Authenticate", 'Bearer realm="FastFaktura"'))
            return response
        self.state.refresh_overdue()
        rule = self.controls.faults.take(request.method, request.raw_path, lambda r: self._applies(r, request))
        if rule is not None and rule.kind == "page_shift":
            self._shift(request, rule)
        return apply_fault(rule, lambda: self._perform(request), error_response, self.controls.sleep)

    def _perform(self, request: Request) -> Response:
        try:
            return self.api.handle(request)
        except ApiError as exc:
            return exc.response()

    def _view(self, token: str) -> Response:
        """The invoice's public page: viewing it marks a sent invoice ``opened`` (no API key needed)."""
        self.state.refresh_overdue()
        invoice_id = self.state.tokens.get(token)
        if invoice_id is None:
            return Response(404, b"<html><body><h1>Invoice not found</h1></body></html>", "text/html; charset=utf-8")
        invoice = self.state.get_invoice(invoice_id)
        if invoice.status != "draft":
            invoice = self.state.open_invoice(invoice_id)
        page = (f"<html><head><title>Invoice {invoice.number}</title></head><body><h1>Invoice {invoice.number}"
                f"</h1><p>Status: {invoice.status}</p><button>Pay with card</button></body></html>")
        return Response(200, page.encode(), "text/html; charset=utf-8")

    # -- page_shift ----------------------------------------------------------------------------------

    @staticmethod
    def _applies(rule: FaultRule, request: Request) -> bool:
        """A page_shift only fires on a list request (clients or invoices) past its first page."""
        if rule.kind != "page_shift":
            return True
        kind = request.raw_path[len(API_PREFIX):].strip("/")
        return request.method == "GET" and kind in ("invoices", "clients") and (request.arg("page") or "1") != "1"

    def _shift(self, request: Request, rule: FaultRule) -> None:
        """Move the listing under the reader just before it reads this page (``body``: "add" or "remove").

        clients (default "remove"): archive the active client just before this page, so everything after
        it moves one place up; "add" creates a client (newest first: everything moves one place down).
        invoices (default "add"): a new draft for the newest active client; "remove" (only with a
        ``status`` filter) cancels the invoice just before this page, so it leaves the filtered listing.
        """
        try:
            page = page_number(request)
        except ApiError:
            return
        state = self.state
        before = (page - 1) * PER_PAGE - 1  # newest-first position of the record just before this page
        with state.lock:
            if request.raw_path.rstrip("/").endswith("clients"):
                if (rule.body or "remove") == "add":
                    state.create_client({"name": "Shifted Client"})
                    return
                try:
                    if archived_arg(request):
                        return
                except ApiError:
                    return
                clients = state.client_listing(False, request.arg("q"))
                if 0 <= before < len(clients):
                    state.archive_client(clients[len(clients) - 1 - before].id)
                return
            status = request.arg("status") or None
            if (rule.body or "add") == "remove":
                listing = state.invoice_listing(status) if status not in (None, "cancelled") else []
                if 0 <= before < len(listing):
                    with contextlib.suppress(ApiError):
                        state.cancel_invoice(listing[len(listing) - 1 - before].id)
                return
            if state.active:
                body = {"client_id": state.active[-1].id, "currency": state.business.currency,
                        "lines": [{"description": "Shifted", "quantity": 1, "unit_price_cents": 1000, "tax_rate": 0}]}
                with contextlib.suppress(Unprocessable, NotFound):
                    state.create_invoice(new_invoice(body))


def _api_key(request: Request) -> str | None:
    """The key from ``X-Api-Key`` (preferred when both are sent) or ``Authorization: Bearer <key>``."""
    key = request.header("X-Api-Key")
    if key:
        return key.strip()
    header = request.header("Authorization") or ""
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None
