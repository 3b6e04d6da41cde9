"""`HydraSandbox`: the server, the request pipeline (rate limit, route, format, JWT, faults, log) and controls."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from sandboxes._control import Controls, FaultRule, RateLimiter, SandboxClock, apply_fault
from sandboxes._lifecycle import CONTROL_PREFIX, SandboxApp
from sandboxes._quirks import QuirkSet
from sandboxes._server import Request, Response
from sandboxes.hydra.control import ServiceControls
from sandboxes.hydra.docs import docs_url
from sandboxes.hydra.errors import (
    HydraError,
    NotAcceptable,
    ServerError,
    TooManyRequests,
    Unauthorized,
    error_response,
)
from sandboxes.hydra.listing import read_query
from sandboxes.hydra.phpquery import parse_str
from sandboxes.hydra.quirks import QUIRKS
from sandboxes.hydra.records import Customer, Invoice, Transaction
from sandboxes.hydra.routes import PUBLIC_PATHS, ApiRoutes, Call, Ctx
from sandboxes.hydra.state import HydraState
from sandboxes.hydra.wire import API_PREFIX

__all__ = ["CONTROL_PREFIX", "FLAVOURS", "HydraSandbox", "negotiate"]

FLAVOURS = ("3", "4")
_FORMATS = {"application/ld+json": "jsonld", "*/*": "jsonld", "application/*": "jsonld", "application/json": "json"}
_SHIFTABLE = ("customers", "invoices", "invoice-transactions", "payment-methods")
_API_DOC = "http://www.w3.org/ns/hydra/core#apiDocumentation"
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def negotiate(accept: str | None) -> str | None:
    """The response format for an ``Accept`` header: "jsonld" (also the default), "json", or None (406)."""
    if not accept or not accept.strip():
        return "jsonld"
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *options = [p.strip() for p in part.split(";")]
        quality = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((quality, -position, media.lower()))
    for quality, _, media in sorted(ranked, reverse=True):
        if quality > 0 and media in _FORMATS:
            return _FORMATS[media]
    return None


class HydraSandbox(SandboxApp):
    """An API Platform app ("Facturering & betalingen") on 127.0.0.1; see the package docstring.

    Its `reset` also restores the constructor's flavour; its `seed` passes every key on, None included.
    """

    api_prefix = API_PREFIX
    declared_quirks = QUIRKS

    def __init__(self, port: int = 0, seed: int = 42, clients: int = 0, invoices: int = 0,
                 lines_per_invoice: int = 3, token: str = "hydra_test_token", flavour: str = "3",
                 rate_limit: int | None = None, rate_window_seconds: float = 60,
                 quirks: Mapping[str, Any] | None = None) -> None:
        """Build the sandbox (seeding now when `clients` or `invoices` is non-zero); `start` serves it.

        Args:
            port: TCP port on 127.0.0.1; 0 picks a free one.
            seed: seed of the generated data.
            clients: generated customers (0 with invoices > 0: one per ten invoices).
            invoices: generated invoices.
            lines_per_invoice: rows on each generated invoice.
            token: the bearer token the API accepts.
            flavour: "3" (API Platform 3.x defaults) or "4" (4.x: unprefixed keys, problem+json errors).
            rate_limit: requests per window and token (None: no limit, like the real app).
            rate_window_seconds: length of a fixed rate window (aligned to the sandbox clock).
            quirks: quirk switches to start with (`quirks.QUIRKS`), e.g. ``{"max_items_per_page": 30}``;
                a ``flavour`` there wins over the argument.
        """
        if str(flavour) not in FLAVOURS:
            raise ValueError(f"flavour must be one of {FLAVOURS}, got {flavour!r}")
        self.token = token
        self.clock = SandboxClock("UTC")
        self.state = HydraState(self.clock)
        self.limiter = RateLimiter(rate_limit, rate_window_seconds, nominal=rate_limit or 0)
        initial = {"flavour": str(flavour), **(quirks or {})}
        self.controls = Controls(self.clock, self.limiter, QuirkSet(QUIRKS, initial))
        self.default_flavour: str = self.controls.quirks.get("flavour")
        self.api = ApiRoutes(self.state)
        self._mount(ServiceControls(self, self.controls), port)
        if clients or invoices:
            self.service_controls.seed(seed=seed, customers=clients or None, invoices=invoices,
                                       lines_per_invoice=lines_per_invoice)

    # -- public surface (start/stop/with/port/base_url/control_url/reset: `SandboxApp`) -------------

    @property
    def flavour(self) -> str:
        """The API Platform flavour answering now ("3" or "4"): the ``flavour`` quirk."""
        return str(self.controls.quirks.get("flavour"))

    @flavour.setter
    def flavour(self, value: str) -> None:
        self.controls.quirks.set({"flavour": value})

    @property
    def credentials(self) -> dict[str, Any]:
        """What a client needs to authenticate: ``{"api_key": <bearer token>}``."""
        return {"api_key": self.token}

    def seed(self, **spec: Any) -> dict[str, int]:
        """Replace all data with a generated account (see `control.default_spec`); returns the counts."""
        return self.service_controls.seed(**spec)

    # -- pipeline ------------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Answer one request: control routes directly, API requests through the service pipeline."""
        if request.raw_path.startswith(CONTROL_PREFIX):
            response = self._control(request)
            response.headers.append(("Date", self.clock.http_date()))
            return response
        flavour = self.flavour
        origin = self._origin(request)
        fmt = negotiate(request.header("Accept"))
        token = _bearer(request.header("Authorization"))
        decision = self.limiter.hit(token or "", self.clock.time())
        try:
            if not decision.allowed:
                window = self.limiter.window_seconds
                wait = math.ceil(window - self.clock.time() % window)
                raise TooManyRequests("Too Many Requests", [("Retry-After", str(max(1, wait)))])
            call = self.api.resolve(request)
            if fmt is None:
                raise NotAcceptable(f'Requested format "{request.header("Accept")}" is not supported. Supported '
                                    'MIME types are "application/ld+json", "application/json".')
            if request.raw_path not in PUBLIC_PATHS:
                if token is None:
                    raise Unauthorized("JWT Token not found")
                if token != self.token:
                    raise Unauthorized("Invalid JWT Token")
            quirks = self.controls.quirks
            ctx = Ctx(fmt, flavour, self.clock.time(), quirks.get("max_items_per_page"),
                      self._server.origin if quirks.get("absolute_links") else "", origin)
            rule = self.controls.faults.take(request.method, request.raw_path, lambda r: self._applies(r, request))
            if rule is not None and rule.kind == "page_shift":
                self._shift(request, ctx, insert=rule.body == "insert")
            response = apply_fault(rule, lambda: self._perform(call, request, ctx),
                                   lambda status, message: error_response(ServerError(status, message), fmt or "json",
                                                                         flavour), self.controls.sleep)
        except HydraError as err:
            response = error_response(err, fmt or "problem", flavour)
        if self.limiter.limit:
            response.headers += [("X-RateLimit-Limit", str(decision.limit)),
                                 ("X-RateLimit-Remaining", str(decision.remaining))]
        response.headers += [("Date", self.clock.http_date()), ("Vary", "Accept"),
                             ("Link", f'<{docs_url(origin)}>; rel="{_API_DOC}"'),
                             ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "deny")]
        self.controls.log.append(request.method, request.raw_path, request.raw_query,
                                 0 if response.drop else response.status, self.clock.time())
        return response

    def _origin(self, request: Request) -> str:
        """Scheme and host of the request, as Symfony builds absolute URLs (the ``Host`` header when it is
        a plain host name or address, else the listening address)."""
        origin = self._server.origin
        host = (request.header("Host") or "").strip()
        if host and _HOST.match(host):
            return f"{origin.partition('://')[0]}://{host}"
        return origin

    def _perform(self, call: Call, request: Request, ctx: Ctx) -> Response:
        try:
            return call(request, ctx)
        except HydraError as err:
            return error_response(err, ctx.fmt, ctx.flavour)

    @staticmethod
    def _collection(request: Request) -> tuple[str, str] | None:
        """(resource, scope) a collection GET lists (``invoices``/``draft`` for /invoices/draft), else None."""
        parts = [p for p in request.raw_path[len(API_PREFIX):].split("/") if p]
        if request.method != "GET" or not parts or parts[0] not in _SHIFTABLE:
            return None
        if len(parts) == 1:
            return parts[0], ""
        if parts[0] == "invoices" and parts[1:] == ["draft"]:
            return "invoices", "draft"
        if parts[0] == "invoices" and len(parts) == 3 and parts[1] == "name":
            return "invoices", f"name:{parts[2][:7]}"
        return None

    def _applies(self, rule: FaultRule, request: Request) -> bool:
        """A page_shift only fires on a collection request past its first page."""
        if rule.kind != "page_shift":
            return True
        return self._collection(request) is not None and (parse_str(request.raw_query).get("page") or "1") != "1"

    def _shift(self, request: Request, ctx: Ctx, insert: bool) -> None:
        """Soft-delete the record just before the requested page, so every later one moves a place forward;
        or (`insert`) add a record, which lands before the page when the query orders new records first."""
        found = self._collection(request)
        if found is None:
            return
        try:
            query = read_query(found[0], parse_str(request.raw_query), ctx.now, found[1], ctx.max_per_page)
        except HydraError:
            return
        state = self.state
        with state.lock:
            listing = state.listing(query)
            index = (query.page - 1) * query.per_page - 1
            if not 0 <= index < len(listing):
                return
            neighbour = listing[index]
            if not insert:
                state.delete(neighbour)
            elif isinstance(neighbour, Customer):
                state.create_customer({"name": f"{neighbour.name} (kopie)"})
            elif isinstance(neighbour, Invoice):
                state.create_invoice({"customer_id": neighbour.customer_id})
            elif isinstance(neighbour, Transaction):
                state.create_transaction(state.invoices[neighbour.invoice_id], {"date": state.now(),
                                                                                 "amount": neighbour.amount})
            else:
                state.create_payment_method("card")


def _bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
