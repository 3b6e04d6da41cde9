"""`FacturaliaSandbox`: the HTTPS server, the request pipeline (rate limit, auth, faults, log) and the controls."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Self

from sandboxes._control import Controls, FaultRule, RateLimiter, SandboxClock, apply_fault
from sandboxes._lifecycle import CONTROL_PREFIX, SandboxApp
from sandboxes._pdf import one_page_pdf
from sandboxes._quirks import QuirkSet
from sandboxes._server import Request, Response
from sandboxes.facturalia.control import ApiKeys, ServiceControls, product_from
from sandboxes.facturalia.errors import ApiError, error_response
from sandboxes.facturalia.quirks import QUIRKS
from sandboxes.facturalia.records import Product
from sandboxes.facturalia.state import DEFAULT_PRODUCTS, DEFAULT_RETENTION_SECONDS, FacturaliaState
from sandboxes.facturalia.tls import RunCertificates
from sandboxes.facturalia.wire import JSON_TYPE, MalformedJson, decode

__all__ = ["API_PREFIX", "CONTROL_PREFIX", "PDF_PREFIX", "SCOPE", "FacturaliaSandbox"]

API_PREFIX = "/api/v1"
PDF_PREFIX = "/facturen/"
SCOPE = "invoices:create"
INVOICES = API_PREFIX + "/invoices"
_AUTHENTICATE = ("WWW-Authenticate", 'Bearer realm="Facturalia", error="invalid_token"')


class FacturaliaSandbox(SandboxApp):
    """A Facturalia API v1 simulator on https://127.0.0.1 (see the package docstring for its fidelity).

    Its `reset` also restores the initial API keys; `base_url` and `control_url` are ``https://``.
    """

    api_prefix = API_PREFIX
    declared_quirks = QUIRKS
    # What a connection to this sandbox needs beyond where and who (`connector sandbox --toml` writes it): the
    # service only receives, and the demo's product code is seeded.
    connection_settings: ClassVar[dict[str, Any]] = {
        "receives": ["invoice"], "options": {"default_product_code": "CONSULT"},
    }

    def __init__(self, port: int = 0, seed: int = 42, clients: int = 0, invoices: int = 0,
                 api_key: str = "fac_live_test", scoped_key: str | None = "fac_live_scoped",
                 rate_limit: int | None = 60, rate_window_seconds: float = 60,
                 products: Iterable[str | dict[str, Any] | Product] = DEFAULT_PRODUCTS,
                 idempotency_retention_seconds: float = DEFAULT_RETENTION_SECONDS,
                 quirks: Mapping[str, Any] | None = None) -> None:
        """Build the sandbox; `start` serves it (and seeds, when `clients` or `invoices` is non-zero).

        Args:
            port: TCP port on 127.0.0.1; 0 picks a free one.
            seed: seed of generated customers and invoices.
            clients: generated customers (0 with invoices > 0: one per ten invoices).
            invoices: invoices created at start through the API's own create path (no keys).
            api_key: a key with scopes switched off (may do everything).
            scoped_key: a key with scopes on but without ``invoices:create`` (None: no such key).
            rate_limit: requests per window and key; None or 0 disables the limit.
            rate_window_seconds: length of a fixed window (aligned to the sandbox clock).
            products: the account's products (codes or objects); a reset restores them.
            idempotency_retention_seconds: how long header keys and external ids are remembered.
            quirks: quirk switches to start with (`quirks.QUIRKS`), e.g. ``{"replay_status": "200"}``.
        """
        self.api_key = api_key
        self.clock = SandboxClock("Europe/Brussels")
        self.state = FacturaliaState(self.clock, [p if isinstance(p, Product) else product_from(p) for p in products],
                                     idempotency_retention_seconds)
        self.limiter = RateLimiter(rate_limit, rate_window_seconds, nominal=rate_limit or 60)
        self.controls = Controls(self.clock, self.limiter, QuirkSet(QUIRKS, quirks))
        self.keys: ApiKeys = {api_key: None}
        if scoped_key:
            self.keys[scoped_key] = frozenset()
        self.certificates = RunCertificates()
        self._mount(ServiceControls(self.state, self.controls, self.keys), port, self.certificates.server_context())
        self._seed: dict[str, Any] | None = (
            {"seed": seed, "customers": clients, "invoices": invoices} if clients or invoices else None)

    # -- public surface (stop/with/port/base_url/control_url/seed/reset: `SandboxApp`) ---------------

    def start(self) -> Self:
        """Serve in a background thread (seeding first if asked to); returns self."""
        super().start()
        self.state.origin = self._server.origin
        if self._seed is not None:
            self.service_controls.seed(**self._seed)
            self._seed = None
        return self

    @property
    def ca_bundle(self) -> str:
        """Path of a PEM file with the CA certificate of this run (verify both URLs against it; kept after `stop`)."""
        return self.certificates.ca_bundle

    @property
    def credentials(self) -> dict[str, str]:
        """``{"api_key": ...}`` (the key without scopes)."""
        return {"api_key": self.api_key}

    # -- pipeline ------------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Answer one request: control routes and PDF links directly, API requests through the pipeline."""
        path = request.raw_path
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            response = self._control(request)
        elif path.startswith(PDF_PREFIX) and request.method == "GET":
            response = self._pdf(path[len(PDF_PREFIX):])
        else:
            return self._api(request)
        response.headers.append(("Date", self.clock.http_date()))
        return response

    def _api(self, request: Request) -> Response:
        token = _bearer(request.header("Authorization"))
        now = self.clock.time()
        decision = self.limiter.hit(token or "", now)
        window = self.limiter.window_seconds
        reset = (math.floor(now / window) + 1) * window
        remaining = decision.remaining
        if not decision.allowed:
            response = error_response(429)
            response.headers.append(("Retry-After", str(max(1, math.ceil(reset - now)))))
        elif token is None or token not in self.keys:
            response = error_response(401)
            response.headers.append(_AUTHENTICATE)
        else:
            rule = self.controls.faults.take(request.method, request.raw_path)
            if rule is not None and rule.kind == "storm":
                remaining = 0
            response = self._faulted(rule, lambda: self._perform(request, self.keys.get(token)))
        response.headers += [("X-RateLimit-Limit", str(decision.limit)), ("X-RateLimit-Remaining", str(remaining)),
                             ("X-RateLimit-Reset", str(int(reset))), ("Date", self.clock.http_date())]
        self.controls.log.append(request.method, request.raw_path, request.raw_query,
                                 0 if response.drop else response.status, self.clock.time())
        return response

    def _faulted(self, rule: FaultRule | None, perform: Callable[[], Response]) -> Response:
        """Answer through a fault; status and storm answers are the service's own error envelope."""
        if rule is not None and rule.kind in ("status", "storm"):
            status = rule.status or (429 if rule.kind == "storm" else 500)
            response = error_response(status, message=rule.body)
            if status == 429:
                response.headers.append(("Retry-After", str(rule.retry_after if rule.retry_after is not None else 1)))
            return response
        return apply_fault(rule, perform, lambda status, message: error_response(status), self.controls.sleep)

    def _perform(self, request: Request, scopes: frozenset[str] | None) -> Response:
        try:
            return self._create(request, scopes)
        except ApiError as exc:
            return exc.response()

    def _create(self, request: Request, scopes: frozenset[str] | None) -> Response:
        if request.raw_path.rstrip("/") != INVOICES:
            raise ApiError(404)
        if request.method != "POST":
            raise ApiError(405, headers=(("Allow", "POST"),))
        if scopes is not None and SCOPE not in scopes:
            raise ApiError(403)
        if not _is_json(request.header("Content-Type")):
            raise ApiError(415)
        try:
            body = decode(request.body)
        except MalformedJson:
            raise ApiError(400) from None
        if type(body) is not dict:
            raise ApiError(400, message="De request body moet een JSON-object zijn.")
        key = (request.header("Idempotency-Key") or "").strip() or None
        invoice, replayed = self.state.create_invoice(body, request.body, key)
        quirks = self.controls.quirks
        response = Response(int(quirks.get("replay_status")) if replayed else 201, invoice.response, JSON_TYPE)
        if replayed and quirks.get("replay_header"):
            response.headers.append(("Idempotency-Status", "replayed"))
        return response

    def _pdf(self, name: str) -> Response:
        token = name.removesuffix(".pdf")
        with self.state.lock:
            invoice_id = self.state.by_token.get(token)
            invoice = self.state.invoices.get(invoice_id) if invoice_id is not None else None
            if invoice is None:
                return error_response(404)
            body = one_page_pdf(f"Factuur {invoice.number}", invoice.pdf_rows)
        return Response(200, body, "application/pdf",
                        [("Content-Disposition", f'inline; filename="factuur-{invoice.number}.pdf"')])


def _bearer(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None."""
    if not header:
        return None
    scheme, _, key = header.strip().partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


def _is_json(content_type: str | None) -> bool:
    """``application/json``, optionally with ``charset=utf-8`` (any case); nothing else."""
    if not content_type:
        return False
    media, *params = (part.strip().lower() for part in content_type.split(";"))
    if media != "application/json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True
